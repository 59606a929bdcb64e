"""Masking policy for sharing consumers: the bureau's method per grade, and the grant's overrides.

The bureau sets one method per grade (keep / mask / pseudonymize / generalize / suppress) on
/console/classification; grades it never set use ``masking.DEFAULT_BY_GRADE``. A grant may carry
overrides approved with it (``Grant.masking``: ``{"by_type": {...}, "by_category": {...},
"by_grade": {...}, "default": "keep"}``), which win over the bureau's table.

The exchange masks the records of a grant with::

    policy = policy_for_grant(session, grant.masking, pseudonym_key(session, grant))
    plan = compile_plan(policy, item_types(items))
    masked = [plan(record) for record in records]

``item_types`` gives each field its detector type (``pi_type``, else a hint from the item's name)
and, when the item's grade is above what the type alone suggests, appends the grade:
``name@重要`` or, for an item with no type at all, ``@核心``. ``MaskingPolicy.method_for`` reads
both, so a column a reviewer graded 核心 is suppressed even when no detector type names it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.audit.services import record as audit
from cityos.auth.principal import Principal
from cityos.core.db import utcnow
from cityos.core.errors import invalid
from cityos.protection.grades import (
    BASELINE_GRADE,
    GRADES,
    PERSONAL,
    SENSITIVE_PERSONAL,
    TYPE_GRADES,
    grade_rank,
    max_grade,
)
from cityos.protection.masking import DEFAULT_BY_GRADE, GENERAL_TYPES, METHODS, MaskingPolicy
from cityos.protection.models import GradePolicy
from cityos.protection.scan import header_hint

# the least grade an item's declared sensitivity implies
SENSITIVITY_FLOOR: dict[str, str] = {
    SENSITIVE_PERSONAL: "重要",
    PERSONAL: "一般-3",
    "sensitive": "一般-2",
    "internal": "一般-2",
    "public": BASELINE_GRADE,
}
# header words of the generalisable types (the detector types come from scan.header_hint)
_GENERAL_HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("age", ("年龄", "岁数", "age")),
    ("point", ("坐标", "经纬度", "位置", "location", "point", "geom")),
)
GRANT_MASKING_KEYS = ("by_type", "by_category", "by_grade", "default")


# ----------------------------------------------------------------------------- the bureau's table


def grade_methods(session: Session) -> dict[str, str]:
    """Method per grade for sharing consumers: the bureau's table over ``DEFAULT_BY_GRADE``."""
    methods = dict(DEFAULT_BY_GRADE)
    for row in session.scalars(select(GradePolicy)):
        if row.grade in methods and row.method in METHODS:
            methods[row.grade] = row.method
    return methods


def set_grade_methods(
    session: Session, methods: Mapping[str, str], actor: Principal | None
) -> dict[str, str]:
    """Change the method of some grades; audited as ``protection.policy.update`` (old → new)."""
    _check_methods(methods, "methods")
    before = grade_methods(session)
    changes: dict[str, dict[str, str]] = {}
    rows = {row.grade: row for row in session.scalars(select(GradePolicy))}
    for grade, method in methods.items():
        if before[grade] == method and grade in rows:
            continue
        row = rows.get(grade)
        if row is None:
            row = GradePolicy(grade=grade, method=method)
            session.add(row)
        row.method = method
        row.updated_at = utcnow()
        row.updated_by = actor.user_id if actor else None
        if before[grade] != method:
            changes[grade] = {"old": before[grade], "new": method}
    session.flush()
    if changes:
        audit(session, actor, "protection.policy.update", "masking_policy", "sharing", **changes)
    return grade_methods(session)


def _check_methods(methods: Mapping[str, Any], where: str) -> None:
    for grade, method in methods.items():
        if grade not in GRADES:
            raise invalid("unknown_grade", "Unknown grade {grade}.", grade=grade)
        if method not in METHODS:
            raise invalid(
                "unknown_method",
                "Unknown masking method {method} ({where}).",
                method=method,
                where=where,
            )


def validate_grant_masking(masking: Mapping[str, Any]) -> None:
    """422 unless ``masking`` is a valid set of grant overrides (see the module doc)."""
    for key, value in masking.items():
        if key not in GRANT_MASKING_KEYS:
            raise invalid("unknown_masking_key", "Unknown masking setting {key}.", key=key)
        if key == "default":
            if value not in METHODS:
                raise invalid(
                    "unknown_method",
                    "Unknown masking method {method} ({where}).",
                    method=value,
                    where=key,
                )
            continue
        if not isinstance(value, Mapping):
            raise invalid("bad_masking", "The masking setting {key} must be an object.", key=key)
        if key == "by_grade":
            _check_methods(value, key)
        for method in value.values():
            if method not in METHODS:
                raise invalid(
                    "unknown_method",
                    "Unknown masking method {method} ({where}).",
                    method=method,
                    where=key,
                )


# ----------------------------------------------------------------------------- for the exchange


def policy_for_grant(
    session: Session, grant_masking: Mapping[str, Any] | None, pseudonym_key: bytes
) -> MaskingPolicy:
    """The masking policy of one grant: the bureau's method per grade, overridden by the grant's
    own ``by_type`` / ``by_category`` / ``by_grade`` / ``default``. ``pseudonym_key`` is the
    grant's key (``cityos.sharing.grants.pseudonym_key``), so pseudonyms differ across grants."""
    overrides = dict(grant_masking or {})
    validate_grant_masking(overrides)
    by_grade = grade_methods(session)
    by_grade.update(overrides.get("by_grade") or {})
    return MaskingPolicy(
        by_type=dict(overrides.get("by_type") or {}),
        by_category=dict(overrides.get("by_category") or {}),
        by_grade=by_grade,
        default=str(overrides.get("default") or "keep"),
        key=pseudonym_key or None,
    )


def _get(item: Any, name: str, default: Any = None) -> Any:
    if isinstance(item, Mapping):
        return item.get(name, default)
    return getattr(item, name, default)


def item_type_hint(
    name: str, field: str, data_type: str | None = None, *, detector_types: bool = True
) -> str | None:
    """The type an item's name or field suggests (detector types first, then age/point/date)."""
    for text in (name, field) if detector_types else ():
        if text:
            hint = header_hint(text)
            if hint is not None:
                return hint
    for text in (name, field):
        lowered = (text or "").lower()
        for kind, words in _GENERAL_HINTS:
            if any(word in lowered for word in words):
                return kind
    if data_type in ("date", "datetime"):
        return data_type
    return None


def item_grade(item: Any) -> str:
    """The grade masking should assume for an item: its grade, the pending proposal when higher
    (an unconfirmed proposal errs on the safe side), and the floor of its declared sensitivity."""
    grades = [str(_get(item, "grade") or BASELINE_GRADE)]
    proposed = _get(item, "proposed_grade")
    if proposed and _get(item, "grade_status") == "proposed":
        grades.append(str(proposed))
    grades.append(SENSITIVITY_FLOOR.get(str(_get(item, "sensitivity") or "public"), BASELINE_GRADE))
    return max_grade(g for g in grades if g in GRADES)


def item_kind(item: Any) -> str | None:
    """One item's entry of ``item_types``. A reviewer's confirmed ``pi_type`` (even none) is
    trusted; an unconfirmed item without one also takes the detector type its name suggests."""
    kind = _get(item, "pi_type") or item_type_hint(
        str(_get(item, "name") or ""),
        str(_get(item, "field") or ""),
        _get(item, "data_type"),
        detector_types=_get(item, "grade_status") != "confirmed",
    )
    grade = item_grade(item)
    entry = TYPE_GRADES.get(kind or "")
    implied = entry.grade if entry is not None else BASELINE_GRADE
    if grade_rank(grade) > grade_rank(implied):
        return f"{kind or ''}@{grade}"
    return kind


def item_types(items: Iterable[Any]) -> dict[str, str | None]:
    """field → masking type of catalogue items (``ResourceItem`` or dicts with field, name,
    pi_type, grade, proposed_grade, grade_status, sensitivity, data_type): the detector type
    (``pi_type`` or a hint from the name), one of ``GENERAL_TYPES`` (age, point, date, datetime),
    or None; ``@<grade>`` is appended when the item's grade is above the type's (see the module
    doc), e.g. ``{"id_number": "id_card", "name": "name@重要", "notes": "@核心", "seq": None}``."""
    return {str(_get(item, "field")): item_kind(item) for item in items}


def methods_for(policy: MaskingPolicy, types: Mapping[str, str | None]) -> dict[str, str]:
    """field → the method the policy gives it (to show consumers what they receive)."""
    return {field: policy.method_for(kind) for field, kind in types.items()}


__all__ = [
    "GENERAL_TYPES",
    "grade_methods",
    "item_grade",
    "item_kind",
    "item_type_hint",
    "item_types",
    "methods_for",
    "policy_for_grant",
    "set_grade_methods",
    "validate_grant_masking",
]
