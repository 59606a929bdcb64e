"""The auditor's page (/audit, admin and reviewer): search the audit trail, open a record with
its inclusion proof against the latest signed tree head, export the filtered records.

- ``/audit``: filters (time range in Asia/Shanghai, actor, organisation, action prefix, target,
  result of exchange calls, free text), a paged table, the current signed tree head;
- ``/audit/records/{id}``: the full record, its leaf text and hash, and its audit path, checked
  here and shown so that anyone can check it again (``cityos.audit.merkle.verify_inclusion``);
- ``/audit/export.csv`` (UTF-8 with BOM, for Excel) and ``/audit/export.jsonl``: streamed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from cityos.audit import log as audit_log
from cityos.audit import services
from cityos.audit.api import AUDITORS
from cityos.audit.leaf import at_iso
from cityos.audit.merkle import TreeHead, verify_inclusion
from cityos.audit.models import AuditRecord, AuditTreeHead
from cityos.auth.access import roles
from cityos.auth.principal import Principal
from cityos.core.errors import ProblemError, invalid, not_found
from cityos.core.i18n import DISPLAY_TZ
from cityos.core.web import render

router = APIRouter()
PAGE = 50
FLUSH = 1 << 16
FIELDS = ("since", "until", "actor", "org", "action", "target_type", "target_id", "result", "q")
RESULTS = (
    "ok",
    "code_revoked",
    "code_expired",
    "code_unknown",
    "code_invalid",
    "code_suspended",
    "grant_inactive",
    "rate_limited",
)
ACTION_PREFIXES = (
    "exchange.",
    "exchange.records",
    "exchange.export",
    "exchange.service",
    "exchange.denied",
    "sharing.",
    "incident.",
    "catalog.",
    "datastore.",
    "user.",
)
CSV_COLUMNS = (
    "leaf_index",
    "id",
    "at",
    "actor_id",
    "actor_name",
    "org_id",
    "action",
    "target_type",
    "target_id",
    "result",
    "ip",
    "detail",
    "leaf_hash",
)


# ----------------------------------------------------------------------------- filters


def _local_time(name: str, value: str | None, *, end: bool) -> datetime | None:
    """A datetime-local (or date) input in Asia/Shanghai; a date alone covers its whole day."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day + timedelta(days=1) if end else day, time())
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise invalid(
            "bad_time", "{field}: not a date and time (YYYY-MM-DD HH:MM).", field=name
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=DISPLAY_TZ)
    return moment


def parse_filter(params: dict[str, str]) -> services.RecordFilter:
    def value(key: str) -> str | None:
        v = (params.get(key) or "").strip()
        return v[:200] or None

    return services.RecordFilter(
        since=_local_time("since", params.get("since"), end=False),
        until=_local_time("until", params.get("until"), end=True),
        actor=value("actor"),
        org=value("org"),
        action=value("action"),
        target_type=value("target_type"),
        target_id=value("target_id"),
        result=value("result"),
        q=value("q"),
    )


def _form(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "") for k in FIELDS}


def _query_string(form: dict[str, str], **extra: Any) -> str:
    pairs = {k: v for k, v in form.items() if v}
    pairs.update({k: str(v) for k, v in extra.items() if v not in (None, "")})
    return urlencode(pairs)


# ----------------------------------------------------------------------------- display


def summary(detail: dict[str, Any]) -> str:
    """One line of what a record's detail says (exchange calls: result, rows, code, ip)."""
    if "result" in detail and "code" in detail:
        parts = [f"{detail.get('result')}"]
        if detail.get("rows"):
            parts.append(f"rows={detail['rows']}")
        for key in ("code", "format", "ip"):
            if detail.get(key):
                parts.append(f"{key}={detail[key]}")
        return " · ".join(parts)
    parts = []
    for key, value in detail.items():
        if isinstance(value, list | dict):
            shown = f"[{len(value)}]"
        else:
            shown = str(value)
            shown = shown if len(shown) <= 40 else shown[:39] + "…"
        parts.append(f"{key}={shown}")
        if len(parts) == 4:
            break
    return " · ".join(parts)


def _org_names(session: Any) -> dict[str, str]:
    from cityos.directory.services import organisation_names

    return organisation_names(session)


def _head_info(session: Any) -> dict[str, Any] | None:
    from cityos.crypto import sm2_verify

    head: AuditTreeHead | None = audit_log.latest_head(session)
    if head is None:
        return None
    pem = audit_log.public_key_pem(session, head.key_id)
    signed = TreeHead(head.tree_size, head.root_hash, head.timestamp_ms).signed_data()
    try:
        signature_ok = bool(pem) and sm2_verify(pem.encode(), signed, head.signature)  # type: ignore[union-attr]
    except Exception:  # a damaged key or signature is reported, not raised
        signature_ok = False
    return {
        "tree_size": head.tree_size,
        "root_hash": head.root_hash.hex(),
        "signed_at": datetime.fromtimestamp(head.timestamp_ms / 1000, DISPLAY_TZ),
        "timestamp_ms": head.timestamp_ms,
        "key_id": head.key_id,
        "signature": head.signature.hex(),
        "signed_data": signed.hex(),
        "signature_ok": signature_ok,
        "public_key": pem or "",
    }


# ----------------------------------------------------------------------------- pages


@router.get("/audit", response_class=HTMLResponse)
def explorer(
    request: Request,
    page: int = Query(1, ge=1, le=100_000),
    _: Principal = Depends(roles(*AUDITORS)),
) -> Response:
    """The audit explorer: filters, a paged table of records, the current signed tree head."""
    form = _form(request)
    error: ProblemError | None = None
    try:
        filters = parse_filter(form)
    except ProblemError as problem:
        error, filters = problem, services.RecordFilter()
    with request.app.state.db.session() as session:
        total, rows = (
            (0, [])
            if error
            else services.explore(session, filters, limit=PAGE, offset=(page - 1) * PAGE)
        )
        names = _org_names(session)
        head = _head_info(session)
        size = services.log_size(session)
        from cityos.directory.services import list_organisations

        organisations = [(o.id, o.name) for o in list_organisations(session)]
    context = {
        "form": form,
        "error": error,
        "rows": [(r, r.detail) for r in rows],
        "summary": summary,
        "names": names,
        "organisations": organisations,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE)),
        "head": head,
        "log_size": size,
        "results": RESULTS,
        "action_prefixes": ACTION_PREFIXES,
        "qs": lambda **extra: _query_string(form, **extra),
    }
    return render(request, "audit/explorer.html", context, status_code=422 if error else 200)


def _proof(session: Any, record: AuditRecord, head: dict[str, Any] | None) -> dict[str, Any]:
    """The record's audit path in the latest signed tree, checked against the signed root."""
    if head is None or record.leaf_index >= head["tree_size"]:
        return {"covered": False}
    leaf, path = audit_log.inclusion_proof(session, record.leaf_index, head["tree_size"])
    root = bytes.fromhex(head["root_hash"])
    return {
        "covered": True,
        "verified": verify_inclusion(leaf, record.leaf_index, head["tree_size"], path, root),
        "document": {
            "leaf_index": record.leaf_index,
            "tree_size": head["tree_size"],
            "leaf_hash": leaf.hex(),
            "audit_path": [p.hex() for p in path],
            "root_hash": head["root_hash"],
            "timestamp_ms": head["timestamp_ms"],
            "signed_data": head["signed_data"],
            "signature": head["signature"],
            "key_id": head["key_id"],
        },
    }


def _record_context(request: Request, record_id: int) -> dict[str, Any]:
    with request.app.state.db.session() as session:
        record = services.get_record(session, record_id)
        if record is None:
            raise not_found("audit record", str(record_id))
        head = _head_info(session)
        proof = _proof(session, record, head)
        names = _org_names(session)
        leaf_text = services.leaf_bytes(record).decode("utf-8")
        leaf_ok = services.leaf_matches(record)
    return {
        "r": record,
        "detail_pretty": json.dumps(record.detail, ensure_ascii=False, indent=2, sort_keys=True),
        "leaf_text": leaf_text,
        "leaf_ok": leaf_ok,
        "head": head,
        "proof": proof,
        "proof_json": json.dumps(proof.get("document"), indent=2) if proof["covered"] else "",
        "names": names,
        "summary": summary,
    }


@router.get("/audit/records/{record_id}", response_class=HTMLResponse)
def record_page(
    record_id: int, request: Request, _: Principal = Depends(roles(*AUDITORS))
) -> Response:
    """One audit record: full detail, leaf hash, and its inclusion proof (checked here)."""
    return render(request, "audit/record.html", _record_context(request, record_id))


@router.get("/audit/records/{record_id}/proof.json")
def record_proof(
    record_id: int, request: Request, _: Principal = Depends(roles(*AUDITORS))
) -> Response:
    """The record's inclusion proof with the signed tree head it is checked against (JSON)."""
    context = _record_context(request, record_id)
    if not context["proof"]["covered"]:
        raise ProblemError(
            409, "not_yet_signed", "No signed tree head covers this record yet; try again shortly."
        )
    document = dict(context["proof"]["document"], public_key=context["head"]["public_key"])
    return Response(
        json.dumps(document, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="audit-{record_id}-proof.json"'},
    )


# ----------------------------------------------------------------------------- exports


def _csv(records: Iterator[AuditRecord]) -> Iterator[bytes]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield b"\xef\xbb\xbf"
    for r in records:
        detail = r.detail
        writer.writerow(
            [
                r.leaf_index,
                r.id,
                r.at.astimezone(DISPLAY_TZ).isoformat(),
                r.actor_id or "",
                r.actor_name or "",
                r.org_id or "",
                r.action,
                r.target_type,
                r.target_id or "",
                detail.get("result", "") if isinstance(detail.get("result"), str) else "",
                r.ip or detail.get("ip") or "",
                r.detail_json,
                r.leaf_hash.hex(),
            ]
        )
        if buf.tell() >= FLUSH:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def _json_lines(records: Iterator[AuditRecord]) -> Iterator[bytes]:
    parts: list[str] = []
    size = 0
    for r in records:
        line = json.dumps(
            {
                "leaf_index": r.leaf_index,
                "id": r.id,
                "at": at_iso(r.at),
                "actor_id": r.actor_id,
                "actor_name": r.actor_name,
                "org_id": r.org_id,
                "action": r.action,
                "target_type": r.target_type,
                "target_id": r.target_id,
                "detail": r.detail,
                "ip": r.ip,
                "leaf_hash": r.leaf_hash.hex(),
            },
            ensure_ascii=False,
        )
        parts.append(line + "\n")
        size += len(line)
        if size >= FLUSH:
            yield "".join(parts).encode("utf-8")
            parts.clear()
            size = 0
    yield "".join(parts).encode("utf-8")


def _export(request: Request, principal: Principal, fmt: str) -> StreamingResponse:
    filters = parse_filter(_form(request))
    db = request.app.state.db
    with db.session() as session:
        services.record(
            session,
            principal,
            "audit.export",
            "audit_log",
            None,
            format=fmt,
            query=_query_string(_form(request)),  # as text: not matched by a result= filter
        )
    stamp = datetime.now(DISPLAY_TZ).strftime("%Y%m%d-%H%M%S")
    records = services.stream_records(db, filters)
    if fmt == "csv":
        return StreamingResponse(
            _csv(records),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
        )
    return StreamingResponse(
        _json_lines(records),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.jsonl"'},
    )


@router.get("/audit/export.csv")
def export_csv(request: Request, principal: Principal = Depends(roles(*AUDITORS))) -> Response:
    """The filtered records as CSV (UTF-8 with BOM), in log order; the export is audited."""
    return _export(request, principal, "csv")


@router.get("/audit/export.jsonl")
def export_jsonl(request: Request, principal: Principal = Depends(roles(*AUDITORS))) -> Response:
    """The filtered records as JSON lines, in log order; the export is audited."""
    return _export(request, principal, "jsonl")
