"""JSON API of classification and grading under /api/v1/protection."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from cityos.auth.access import authenticated, roles
from cityos.auth.principal import Principal
from cityos.core.errors import invalid
from cityos.datastore.api import check_length, max_bytes
from cityos.datastore.sources import spool
from cityos.protection import policies, review
from cityos.protection.grades import GRADES
from cityos.protection.masking import DEFAULT_BY_GRADE, METHODS
from cityos.protection.scan import scan_columns
from cityos.protection.schemas import (
    GradesIn,
    PoliciesIn,
    PoliciesOut,
    ResourceGradesOut,
)
from cityos.protection.tables import TableError, read_table

router = APIRouter(prefix="/protection", tags=["protection"])
REVIEWERS = ("admin", "reviewer")
SCAN_BODY: dict[str, Any] = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        }
    }
}


@router.get("/proposals", response_model=list[ResourceGradesOut])
def proposals(
    request: Request, principal: Principal = Depends(roles(*REVIEWERS))
) -> list[dict[str, Any]]:
    """Resources whose grades await a reviewer: scan proposals with detected types and ratios,
    the suggested grade per item and for the resource (highest first)."""
    with request.app.state.db.session() as session:
        return review.proposals(session)


@router.get("/resources/{ident}/grades", response_model=ResourceGradesOut)
def get_grades(
    ident: str, request: Request, principal: Principal = Depends(roles(*REVIEWERS))
) -> dict[str, Any]:
    """A resource's grades (by id or 信息资源代码): confirmed grade, proposal, detected types,
    personal-information category and whether each item is stored encrypted."""
    return review.get_grades(request.app.state.db, ident)


@router.put("/resources/{ident}/grades", response_model=ResourceGradesOut)
def put_grades(
    ident: str,
    body: GradesIn,
    request: Request,
    principal: Principal = Depends(roles(*REVIEWERS)),
) -> dict[str, Any]:
    """Confirm or change a resource's grades (audited old → new); 422 ``grade_below_items``
    when the resource grade is below its highest item grade. The stored data is encrypted or
    decrypted in place when the change needs it (``encryption`` says what changed)."""
    decision = review.Decision(body.item_changes(), body.grade, body.comment.strip())
    return review.confirm(request.app.state.db, ident, decision, principal)


@router.post("/scan", openapi_extra=SCAN_BODY)
async def scan(
    request: Request,
    sample: int = Query(10_000, ge=1, le=100_000),
    min_ratio: float = Query(0.1, ge=0, le=1),
    principal: Principal = Depends(authenticated),
) -> dict[str, Any]:
    """Scan an uploaded CSV/XLSX (multipart field ``file``): per column the detected types with
    their share of values and a suggested grade, exactly as ``cityos classify --format json``."""
    check_length(request)
    limit = max_bytes(request)
    form = await request.form(max_files=1, max_fields=5)
    try:
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise invalid("no_file", "Choose a file to upload.")

        def run() -> dict[str, Any]:
            stream, _size = spool(upload.file, limit)
            with tempfile.NamedTemporaryFile(suffix=".upload") as tmp:
                shutil.copyfileobj(stream, tmp)
                tmp.flush()
                try:
                    header, rows, _source = read_table(Path(tmp.name), sample)
                except TableError as exc:
                    raise invalid("unreadable_table", "{detail}", detail=str(exc)) from None
            reports = scan_columns(header, rows, sample, min_ratio=min_ratio)
            return {"columns": [r.to_json() for r in reports]}

        return await run_in_threadpool(run)
    finally:
        await form.close()


@router.get("/policies", response_model=PoliciesOut)
def get_policies(
    request: Request, principal: Principal = Depends(roles(*REVIEWERS))
) -> dict[str, Any]:
    """The bureau's masking method per grade for sharing consumers (keep, mask, pseudonymize,
    generalize, suppress); grades never set use the defaults."""
    with request.app.state.db.session() as session:
        return _policies(policies.grade_methods(session))


@router.put("/policies", response_model=PoliciesOut)
def put_policies(
    body: PoliciesIn, request: Request, principal: Principal = Depends(roles(*REVIEWERS))
) -> dict[str, Any]:
    """Set the masking method of some grades (audited ``protection.policy.update``); grants
    read it on their next call."""
    with request.app.state.db.session() as session:
        return _policies(policies.set_grade_methods(session, body.by_grade, principal))


def _policies(by_grade: dict[str, str]) -> dict[str, Any]:
    return {
        "by_grade": by_grade,
        "defaults": dict(DEFAULT_BY_GRADE),
        "methods": list(METHODS),
        "grades": list(GRADES),
    }
