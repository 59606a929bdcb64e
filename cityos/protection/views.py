"""Classification pages of the bureau console (zh-Hans first, work without JavaScript).

- ``/console/classification``: resources whose grades await confirmation, with the scan's
  detected types and ratios and a form per resource to confirm or change each item's grade,
  personal-information type and category, and the resource grade;
- ``/console/classification/policies``: the masking method per grade for sharing consumers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cityos.auth.access import roles
from cityos.auth.principal import Principal
from cityos.catalog.labels import SENSITIVITY
from cityos.catalog.models import SENSITIVITIES
from cityos.core.errors import ProblemError
from cityos.core.i18n import lazy
from cityos.core.web import check_csrf, render
from cityos.protection import policies, review
from cityos.protection.detectors import TYPES
from cityos.protection.grades import (
    CATEGORY_LABELS,
    GRADE_LABELS,
    GRADES,
    grade_for_types,
    max_grade,
    pi_type_label,
)
from cityos.protection.masking import DEFAULT_BY_GRADE, METHODS
from cityos.protection.review import PI_TYPES

router = APIRouter()
REVIEWERS = ("admin", "reviewer")
METHOD_LABELS = {
    "keep": lazy("Keep as is"),
    "mask": lazy("Mask partly"),
    "pseudonymize": lazy("Pseudonymize (keyed, per grant)"),
    "generalize": lazy("Generalize"),
    "suppress": lazy("Suppress (leave out)"),
}
LABELS = {
    "grade_labels": GRADE_LABELS,
    "category_labels": CATEGORY_LABELS,
    "sensitivity_labels": SENSITIVITY,
    "method_labels": METHOD_LABELS,
    "pi_type_label": pi_type_label,
    "grades": GRADES,
    "pi_types": PI_TYPES,
    "sensitivities": SENSITIVITIES,
    "methods": METHODS,
}


def _defaults(entry: dict[str, Any]) -> dict[str, Any]:
    """What the form shows selected: the proposal where one awaits, else the confirmed value."""
    for item in entry["items"]:
        pending = item["grade_status"] == "proposed" and item["proposed_grade"]
        types = [d["type"] for d in item["detected"]]
        item["default_grade"] = item["proposed_grade"] if pending else item["grade"]
        item["default_pi_type"] = item["pi_type"] or (types[0] if types else None)
        category = grade_for_types(t for t in types if t in TYPES)[1] if pending else None
        item["default_sensitivity"] = (
            category
            if category and item["sensitivity"] in ("public", "internal")
            else item["sensitivity"]
        )
    highest = max_grade(i["default_grade"] for i in entry["items"])
    entry["default_grade"] = max_grade((entry["proposed_grade"], highest))
    return entry


def _entries(request: Request) -> list[dict[str, Any]]:
    from cityos.datastore import services as datastore
    from cityos.directory.services import organisation_names

    db = request.app.state.db
    with db.session() as session:
        entries = review.proposals(session)
        names = organisation_names(session)
    for entry in entries:
        encrypted = set(datastore.encrypted_fields_of(db, entry["id"]))
        for item in entry["items"]:
            item["encrypted"] = item["field"] in encrypted
        entry["provider_name"] = names.get(entry["provider_id"], "")
        _defaults(entry)
    return entries


def _page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    context = {
        "entries": _entries(request),
        "tab": "classification",
        "section": "proposals",
        **LABELS,
        **extra,
    }
    return render(request, "protection/classification.html", context, status_code=status_code)


@router.get("/console/classification", response_class=HTMLResponse)
def classification_page(
    request: Request,
    done: str | None = Query(None, max_length=60),
    encrypted: str | None = Query(None, max_length=500),
    decrypted: str | None = Query(None, max_length=500),
    principal: Principal = Depends(roles(*REVIEWERS)),
) -> Response:
    """Resources whose grades await confirmation, with the scan's proposal and a form each."""
    return _page(
        request,
        done=done,
        encrypted=[f for f in (encrypted or "").split(",") if f],
        decrypted=[f for f in (decrypted or "").split(",") if f],
    )


@router.post("/console/classification/resources/{resource_id}", response_class=HTMLResponse)
async def confirm_grades(
    resource_id: str, request: Request, principal: Principal = Depends(roles(*REVIEWERS))
) -> Response:
    """Confirm (or change) a resource's grades from its form on the classification page."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    items: dict[str, dict[str, Any]] = {}
    for key, value in form.multi_items():
        kind, sep, field = str(key).partition(":")
        if not sep or kind not in ("g", "t", "s"):
            continue
        name = {"g": "grade", "t": "pi_type", "s": "sensitivity"}[kind]
        items.setdefault(field, {})[name] = (str(value) or None) if kind == "t" else str(value)
    decision = review.Decision(
        items, str(form.get("grade") or "") or None, str(form.get("comment") or "").strip()
    )
    db = request.app.state.db
    try:
        result = await run_in_threadpool(review.confirm, db, resource_id, decision, principal)
    except ProblemError as problem:
        if problem.status != 422:
            raise
        return _page(
            request, status_code=422, error=problem.detail, error_id=resource_id, done=None
        )
    query = urlencode(
        {
            "done": result["code"],
            "encrypted": ",".join(result["encryption"]["encrypted"]),
            "decrypted": ",".join(result["encryption"]["decrypted"]),
        }
    )
    return RedirectResponse(f"/console/classification?{query}", status_code=303)


@router.get("/console/classification/policies", response_class=HTMLResponse)
def policies_page(
    request: Request,
    saved: int = Query(0),
    principal: Principal = Depends(roles(*REVIEWERS)),
) -> Response:
    """The masking method per grade for sharing consumers (the bureau's policy)."""
    with request.app.state.db.session() as session:
        methods = policies.grade_methods(session)
    context = {
        "by_grade": methods,
        "defaults": DEFAULT_BY_GRADE,
        "saved": bool(saved),
        "tab": "classification",
        "section": "policies",
        **LABELS,
    }
    return render(request, "protection/policies.html", context)


@router.post("/console/classification/policies", response_class=HTMLResponse)
async def save_policies(
    request: Request, principal: Principal = Depends(roles(*REVIEWERS))
) -> Response:
    """Save the masking method per grade (audited)."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    wanted = {g: str(form.get(f"m:{g}") or "") for g in GRADES if form.get(f"m:{g}")}
    with request.app.state.db.session() as session:
        policies.set_grade_methods(session, wanted, principal)
    return RedirectResponse("/console/classification/policies?saved=1", status_code=303)
