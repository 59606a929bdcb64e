"""Grading on upload and its confirmation by a reviewer (分级确认).

1. After a datastore load commits, ``propose_from_sample`` scans the load's sample (≤ 2,000
   rows, drawn uniformly by the loader) and stores per item the detected types with their
   ratios, the proposed grade (the scan's, raised to the floor of the item's declared
   sensitivity) and the best type. Items whose proposal differs from their confirmed grade,
   and never-confirmed resources, await confirmation.
2. A reviewer (admin, reviewer) confirms or changes each item's grade, type and personal
   category, and the resource grade (never below its highest item grade): ``confirm``. The
   change is audited (``protection.grade.confirm``, old → new) and, in the same transaction
   under the resource's write lock, the stored table is re-encrypted or decrypted in place
   when the grades change which columns need encryption at rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from cityos.audit.services import record as audit
from cityos.auth.principal import Principal
from cityos.catalog import services as catalog
from cityos.catalog.models import SENSITIVITIES, Resource, ResourceItem
from cityos.core.db import Database
from cityos.core.errors import invalid, not_found
from cityos.protection.detectors import TYPES
from cityos.protection.grades import (
    BASELINE_GRADE,
    GRADES,
    PERSONAL,
    SENSITIVE_PERSONAL,
    grade_rank,
    max_grade,
    resource_grade,
)
from cityos.protection.masking import GENERAL_TYPES
from cityos.protection.policies import SENSITIVITY_FLOOR
from cityos.protection.scan import scan_columns

PI_TYPES = (*TYPES, *GENERAL_TYPES)
DECLARED = (PERSONAL, SENSITIVE_PERSONAL)  # declared sensitivities that raise a proposal
SCANNED_TYPES = ("string", "text", "integer")


# ----------------------------------------------------------------------------- the scan


def item_proposal(scan_grade: str, sensitivity: str | None) -> str:
    """The scan's grade, raised to what the item's declared personal category implies."""
    floor = SENSITIVITY_FLOOR[sensitivity] if sensitivity in DECLARED else BASELINE_GRADE
    return max_grade((scan_grade, floor))


def resource_proposal(items: Sequence[ResourceItem]) -> str:
    """The resource suggestion from its items' proposals (or grades where none)."""
    grades = [i.proposed_grade or i.grade for i in items]
    types = [d["type"] for i in items for d in (i.detected or []) if d.get("type")]
    return resource_grade(grades, types)


def propose_from_sample(
    db: Database,
    resource_id: str,
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    actor: Principal | None,
    *,
    batch_id: str | None = None,
) -> dict[str, str]:
    """Scan a load's sample and store the proposals; returns field → proposed grade."""
    with db.session() as session:
        items = {i.field: i for i in catalog.get_items(session, resource_id)}
        # only text and integer columns can hold identifiers (numbers, booleans, dates cannot)
        scanned = [
            (position, f)
            for position, f in enumerate(fields)
            if f in items and items[f].data_type in SCANNED_TYPES
        ]
        # the header hint reads the Chinese name and the field name
        header = [f"{items[f].name} {f}" for _p, f in scanned]
        columns = [p for p, _f in scanned]
        reports = scan_columns(
            header, ([row[p] for p in columns] for row in rows), sample=len(rows)
        )
        found = {f: report for (_p, f), report in zip(scanned, reports, strict=True)}
        proposals: dict[str, dict[str, Any]] = {}
        for name in fields:
            item = items.get(name)
            if item is None:
                continue
            report = found.get(name)
            detected = report.detected if report is not None else []
            grade = report.suggested_grade if report is not None else BASELINE_GRADE
            proposals[name] = {
                "detected": [{"type": t, "ratio": r} for t, r in detected],
                "proposed_grade": item_proposal(grade, item.sensitivity),
                "pi_type": detected[0][0] if detected else None,
            }
        pending = catalog.record_grade_proposals(session, resource_id, proposals, resource_proposal)
        suggestion = resource_proposal(list(items.values()))
        audit(
            session,
            actor,
            "protection.scan",
            "resource",
            resource_id,
            batch_id=batch_id,
            rows=len(rows),
            proposed={f: p["proposed_grade"] for f, p in proposals.items()},
            resource_grade=suggestion,
            pending=pending,
        )
        return {f: p["proposed_grade"] for f, p in proposals.items()}


# ----------------------------------------------------------------------------- the queue


def awaiting_clause() -> Any:
    """Resources with a scan proposal not yet confirmed."""
    scanned = exists().where(
        and_(ResourceItem.resource_id == Resource.id, ResourceItem.proposed_grade.is_not(None))
    )
    item_pending = exists().where(
        and_(
            ResourceItem.resource_id == Resource.id,
            ResourceItem.proposed_grade.is_not(None),
            ResourceItem.grade_status == "proposed",
        )
    )
    return and_(scanned, or_(Resource.grade_status == "proposed", item_pending))


def proposals(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    """Resources awaiting grade confirmation, highest proposal first."""
    resources = list(
        session.scalars(
            select(Resource).where(awaiting_clause()).order_by(Resource.updated_at.desc())
        ).all()
    )[:limit]
    items = catalog.items_for(session, [r.id for r in resources])
    out = [describe(r, items[r.id]) for r in resources]
    out.sort(key=lambda e: (-grade_rank(e["proposed_grade"]), e["code"]))
    return out


def awaiting(session: Session, resource_id: str) -> bool:
    """Whether this resource's grades await confirmation (for the uploader's notice)."""
    stmt = select(Resource.id).where(Resource.id == resource_id, awaiting_clause())
    return session.scalar(stmt) is not None


def describe(
    resource: Resource, items: Sequence[ResourceItem], encrypted: Sequence[str] = ()
) -> dict[str, Any]:
    """The resource's grades as the API and the review page show them (``encrypted``: the
    fields stored encrypted at rest)."""
    return {
        "id": resource.id,
        "code": resource.code,
        "name": resource.name,
        "provider_id": resource.provider_id,
        "grade": resource.grade,
        "grade_status": resource.grade_status,
        "proposed_grade": max_grade((resource_proposal(items), BASELINE_GRADE)),
        "items": [
            {
                "field": i.field,
                "name": i.name,
                "grade": i.grade,
                "proposed_grade": i.proposed_grade,
                "pi_type": i.pi_type,
                "detected": list(i.detected or []),
                "sensitivity": i.sensitivity,
                "grade_status": i.grade_status,
                "encrypted": i.field in encrypted,
            }
            for i in items
        ],
    }


def get_grades(db: Database, ident: str) -> dict[str, Any]:
    from cityos.datastore import services as datastore

    with db.session() as session:
        resource = _resource(session, ident)
        encrypted = datastore.encrypted_fields_of(db, resource.id)
        return describe(resource, catalog.get_items(session, resource.id), encrypted)


def _resource(session: Session, ident: str) -> Resource:
    resource = session.get(Resource, ident) or session.scalar(
        select(Resource).where(Resource.code == ident)
    )
    if resource is None:
        raise not_found("resource", ident)
    return resource


# ----------------------------------------------------------------------------- confirmation


@dataclass
class Decision:
    """What a reviewer confirms: per item (grade, pi_type, sensitivity), the resource grade."""

    items: dict[str, dict[str, Any]]
    grade: str | None = None
    comment: str = ""


def _check_item(name: str, wanted: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "grade" in wanted:
        if wanted["grade"] not in GRADES:
            raise invalid("unknown_grade", "Unknown grade {grade}.", grade=wanted["grade"])
        out["grade"] = wanted["grade"]
    if "pi_type" in wanted:
        kind = wanted["pi_type"] or None
        if kind is not None and kind not in PI_TYPES:
            raise invalid("unknown_pi_type", "Unknown personal information type {type}.", type=kind)
        out["pi_type"] = kind
    if "sensitivity" in wanted:
        if wanted["sensitivity"] not in SENSITIVITIES:
            raise invalid(
                "unknown_sensitivity",
                "Unknown personal information category {category} of {field}.",
                category=wanted["sensitivity"],
                field=name,
            )
        out["sensitivity"] = wanted["sensitivity"]
    return out


def _decide(
    session: Session, resource: Resource, decision: Decision
) -> tuple[dict[str, dict[str, Any]], str]:
    items = catalog.get_items(session, resource.id)
    known = {i.field: i for i in items}
    unknown = sorted(set(decision.items) - set(known))
    if unknown:
        raise invalid("unknown_items", "Unknown items: {items}.", items=", ".join(unknown))
    checked = {f: _check_item(f, w) for f, w in decision.items.items()}
    final = [checked.get(i.field, {}).get("grade", i.grade) for i in items]
    highest = max_grade(final)
    if decision.grade is None:
        types = [checked.get(i.field, {}).get("pi_type", i.pi_type) for i in items]
        grade = resource_grade(final, [t for t in types if t])
    else:
        grade = decision.grade
        if grade not in GRADES:
            raise invalid("unknown_grade", "Unknown grade {grade}.", grade=grade)
    if grade_rank(grade) < grade_rank(highest):
        problem = invalid(
            "grade_below_items",
            "The resource grade {grade} is below its highest item grade {highest}.",
            grade=grade,
            highest=highest,
        )
        problem.errors = [{"field": "grade", "code": "grade_below_items", "message": highest}]
        raise problem
    return checked, grade


def confirm(db: Database, ident: str, decision: Decision, actor: Principal) -> dict[str, Any]:
    """Confirm (or change) a resource's grades; re-encrypts its stored table when needed.
    Returns the new grades with ``encryption`` {"encrypted": [...], "decrypted": [...]}."""
    from cityos.datastore import services as datastore

    with db.session() as session:
        resource_id = _resource(session, ident).id

    def change(session: Session) -> dict[str, Any]:
        resource = _resource(session, resource_id)
        before = describe(resource, catalog.get_items(session, resource.id))
        checked, grade = _decide(session, resource, decision)
        changes = catalog.set_grades(session, resource, checked, grade, actor, decision.comment)
        after = describe(resource, catalog.get_items(session, resource.id))
        audit(
            session,
            actor,
            "protection.grade.confirm",
            "resource",
            resource.id,
            code=resource.code,
            grade=[before["grade"], after["grade"]],
            items={
                a["field"]: {
                    "old": {k: b[k] for k in ("grade", "pi_type", "sensitivity")},
                    "new": {k: a[k] for k in ("grade", "pi_type", "sensitivity")},
                }
                for b, a in zip(before["items"], after["items"], strict=True)
                if any(b[k] != a[k] for k in ("grade", "pi_type", "sensitivity"))
            },
            changes=sorted(changes),
            comment=decision.comment,
        )
        return after

    after, encryption = datastore.change_with_encryption(db, resource_id, change, actor=actor)
    encrypted = datastore.encrypted_fields_of(db, resource_id)
    for item in after["items"]:
        item["encrypted"] = item["field"] in encrypted
    return {**after, "encryption": encryption}
