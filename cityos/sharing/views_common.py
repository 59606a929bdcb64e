"""Helpers shared by the sharing pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from fastapi import Depends
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from cityos.auth.access import authenticated
from cityos.auth.principal import Principal
from cityos.catalog.models import ResourceItem
from cityos.core.errors import ProblemError, forbidden, invalid
from cityos.core.i18n import get_locale
from cityos.directory.codes import DISTRICTS, district_name
from cityos.sharing import rules

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ItemRow:
    field: str
    name: str
    grade: str
    pi_type: str | None
    pi_label: str


def item_rows(items: list[ResourceItem]) -> list[ItemRow]:
    from cityos.protection.grades import type_label

    return [
        ItemRow(
            i.field, i.name, i.grade or "", i.pi_type, type_label(i.pi_type) if i.pi_type else ""
        )
        for i in items
    ]


def district_choices() -> list[tuple[str, str]]:
    """The districts of Haikou (code, name), for row scopes."""
    return [
        (code, district_name(code, get_locale()))
        for code in DISTRICTS
        if code not in ("460000", "460100")
    ]


def parse_date(value: str, field: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise invalid("invalid_date", "Not a date (YYYY-MM-DD): {value}", value=value) from None


def require_date(value: str, field: str) -> date:
    day = parse_date(value, field)
    if day is None:
        raise invalid("date_required", "Give a date (YYYY-MM-DD).")
    return day


def participant(principal: Principal = Depends(authenticated)) -> Principal:
    """Signed in, and a member of a sharing participant (or the bureau): else 403."""
    if not rules.is_participant_user(principal):
        raise forbidden("Sharing is for government departments and public-service enterprises.")
    return principal


def build(model: type[M], **values: Any) -> M:
    """A schema from form values; invalid input becomes a 422 problem, not a crash."""
    try:
        return model(**values)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "code": str(e.get("type"))}
            for e in exc.errors()
        ]
        raise ProblemError(
            422, "validation_error", "The request is invalid.", errors=errors
        ) from None


def requester_orgs(
    session: Session, principal: Principal, provider_id: str
) -> list[tuple[str, str]]:
    """Departments the principal may ask for (id, name): officer of, participant, not provider."""
    from cityos.directory.services import organisation_names

    names = organisation_names(session)
    ids = sorted(
        o for o in principal.officer_org_ids & principal.sharing_org_ids if o != provider_id
    )
    return [(o, names.get(o, o)) for o in ids]
