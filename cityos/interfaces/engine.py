"""Query services: check the inputs, run one exact-match query, answer with the declared outputs.

A verify service answers ``{"match": true|false}`` (which input differed is never said); a lookup
answers ``{"found": false}`` or ``{"found": true, <declared outputs of the one matching row>}``
and refuses (409 ``ambiguous_lookup``) when the inputs match more than one row: never bulk rows.
Error messages name the inputs, never their values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cityos.core.db import Database
from cityos.core.errors import ProblemError
from cityos.core.i18n import gettext, lazy
from cityos.datastore import services as datastore
from cityos.interfaces.models import InterfaceService
from cityos.protection.detectors import matches_value

MAX_TEXT = 200
UPPER_DETECTORS = ("id_card", "uscc", "passport", "permit")


@dataclass
class Outcome:
    """What a call answers, and what the audit record says of it."""

    body: dict[str, Any]
    items: list[str] = field(default_factory=list)  # resource fields disclosed
    row_ids: list[int] = field(default_factory=list)
    rows: int = 0


def _error(name: str, code: str, message: str, **params: Any) -> dict[str, Any]:
    return {"field": name, "code": code, "message": gettext(message, **params)}


def _check_text(spec: dict[str, Any], value: Any) -> tuple[Any, dict[str, Any] | None]:
    name = spec["name"]
    if not isinstance(value, str):
        return None, _error(name, "type", lazy("{field} must be text."), field=name)
    text = value.strip()
    if len(text) > MAX_TEXT:
        return None, _error(name, "too_long", lazy("{field} is too long."), field=name)
    detector = spec.get("detector")
    if detector in UPPER_DETECTORS:
        text = text.upper()
    if detector and not matches_value(detector, text):
        return None, _error(
            name, "detector", lazy("{field} is not a valid {kind}."), field=name, kind=detector
        )
    pattern = spec.get("pattern")
    if pattern and re.fullmatch(pattern, text) is None:
        return None, _error(
            name, "pattern", lazy("{field} does not have the expected form."), field=name
        )
    return text, None


def _check_integer(spec: dict[str, Any], value: Any) -> tuple[Any, dict[str, Any] | None]:
    name = spec["name"]
    if isinstance(value, int) and not isinstance(value, bool):
        return value, None
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,18}", value.strip()):
        return int(value.strip()), None
    return None, _error(name, "type", lazy("{field} must be an integer."), field=name)


def _check_date(spec: dict[str, Any], value: Any) -> tuple[Any, dict[str, Any] | None]:
    name = spec["name"]
    try:
        return date.fromisoformat(value.strip()).isoformat(), None
    except (AttributeError, ValueError):
        return None, _error(name, "type", lazy("{field} must be a date (YYYY-MM-DD)."), field=name)


CHECKS = {"string": _check_text, "integer": _check_integer, "date": _check_date}


def check_inputs(service: InterfaceService, raw: Any) -> dict[str, Any]:
    """The declared inputs, typed and checked (detectors, patterns); 422 ``input_invalid``."""
    if not isinstance(raw, dict):
        raise ProblemError(422, "input_invalid", "Send the inputs as a JSON object.")
    declared = {spec["name"]: spec for spec in service.inputs}
    errors = [
        _error(str(key)[:64], "unknown", lazy("Unknown input: {field}"), field=str(key)[:64])
        for key in raw
        if key not in declared
    ]
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.get("required"):
                errors.append(
                    _error(name, "missing", lazy("Required input is missing: {field}"), field=name)
                )
            continue
        checked, problem = CHECKS[spec["type"]](spec, value)
        if problem is not None:
            errors.append(problem)
        else:
            values[name] = checked
    if errors:
        raise ProblemError(422, "input_invalid", "The inputs are invalid.", errors=errors)
    return values


def scoped_filters(
    values: dict[str, Any], row_scope: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Exact-match filters within the grant's row scope; None when no row can be in scope."""
    filters: dict[str, Any] = dict(values)
    for name, allowed in (row_scope or {}).items():
        options = list(allowed) if isinstance(allowed, list | tuple | set) else [allowed]
        if name in filters:
            if str(filters[name]) not in {str(o) for o in options}:
                return None
        else:
            filters[name] = options
    return filters


def run_query(
    db: Database,
    service: InterfaceService,
    values: dict[str, Any],
    row_scope: dict[str, Any] | None = None,
) -> Outcome:
    operation = service.spec.get("operation")
    filters = scoped_filters(values, row_scope)
    if operation == "verify":
        if filters is None:
            return Outcome({"match": False})
        result = datastore.query(
            db, service.resource_id, filters=filters, limit=1, fields=["_id"], include_total=False
        )
        ids = [int(r["_id"]) for r in result.records]
        return Outcome({"match": bool(ids)}, [], ids, len(ids))
    outputs = [o["name"] for o in service.outputs]
    if filters is None:
        return Outcome({"found": False})
    result = datastore.query(
        db,
        service.resource_id,
        filters=filters,
        limit=2,
        fields=["_id", *outputs],
        include_total=False,
    )
    if len(result.records) > 1:
        raise ProblemError(
            409,
            "ambiguous_lookup",
            "The inputs match more than one record; a lookup answers for one record only.",
        )
    if not result.records:
        return Outcome({"found": False})
    row = result.records[0]
    body = {"found": True, **{name: row.get(name) for name in outputs}}
    return Outcome(body, outputs, [int(row["_id"])], 1)
