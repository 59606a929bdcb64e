"""Validation of catalogue input: enums, items, districts, the share basis, the provider."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from cityos.auth.principal import Principal
from cityos.catalog import policy
from cityos.catalog.classes import ensure_default_classes
from cityos.catalog.models import (
    FORMATS,
    ITEM_TYPES,
    OPEN_TYPES,
    SENSITIVITIES,
    SHARE_METHODS,
    SHARE_TYPES,
    UPDATE_CYCLES,
    ResourceClass,
    ResourceItem,
)
from cityos.catalog.schemas import ItemIn
from cityos.core.errors import ProblemError, forbidden
from cityos.core.i18n import lazy
from cityos.directory.codes import DISTRICTS

FIELD_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
CLASS_RE = re.compile(r"^[0-9]{1,16}$")
ENUMS: dict[str, tuple[str, ...]] = {
    "format": FORMATS,
    "share_type": SHARE_TYPES,
    "share_method": SHARE_METHODS,
    "open_type": OPEN_TYPES,
    "update_cycle": UPDATE_CYCLES,
}


def field_error(code: str, field_name: str, message: str, /, **params: Any) -> ProblemError:
    """A 422 naming the offending field (``message`` is a ``lazy()``-marked msgid)."""
    problem = ProblemError(422, code, message, **params)
    problem.errors = [{"field": field_name, "code": code, "message": problem.detail}]
    return problem


def _clean_list(values: list[str] | None, *, max_len: int = 100) -> list[str]:
    out: list[str] = []
    for value in values or []:
        value = (value or "").strip()
        if value and value not in out:
            out.append(value[:max_len])
    return out


def item_dict(item: ItemIn | ResourceItem) -> dict[str, Any]:
    return {
        "field": item.field,
        "name": item.name,
        "data_type": item.data_type,
        "length": item.length,
        "description": item.description or "",
        "sensitivity": item.sensitivity,
        "unit": item.unit or "",
        "required": bool(item.required),
    }


def _check_items(items: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for n, item in enumerate(items):
        where = f"items.{n}"
        if not FIELD_RE.match(item["field"]):
            raise field_error(
                "invalid_item_field",
                f"{where}.field",
                lazy(
                    "Item field {field} must start with a lower-case letter and use only a-z, "
                    "0-9 and _ (at most 63 characters)."
                ),
                field=item["field"],
            )
        if item["field"] in seen:
            raise field_error(
                "duplicate_item_field",
                f"{where}.field",
                lazy("Item field {field} appears twice."),
                field=item["field"],
            )
        seen.add(item["field"])
        if item["data_type"] not in ITEM_TYPES:
            raise field_error(
                "invalid_data_type",
                f"{where}.data_type",
                lazy("Unknown data type {value}; expected one of: {allowed}"),
                value=item["data_type"],
                allowed=", ".join(ITEM_TYPES),
            )
        if item["sensitivity"] not in SENSITIVITIES:
            raise field_error(
                "invalid_sensitivity",
                f"{where}.sensitivity",
                lazy("Unknown sensitivity {value}; expected one of: {allowed}"),
                value=item["sensitivity"],
                allowed=", ".join(SENSITIVITIES),
            )


def normalise(values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    for key in ("keywords", "related_codes"):
        values[key] = _clean_list(values.get(key), max_len=50 if key == "keywords" else 40)
    values["districts"] = _clean_list(values.get("districts"), max_len=6)
    values["key_fields"] = _clean_list(values.get("key_fields"), max_len=64)
    values["items"] = [
        item_dict(ItemIn.model_validate(i) if isinstance(i, dict) else i)
        for i in values.get("items") or []
    ]
    for key in ("summary", "share_condition", "share_basis", "open_condition"):
        values[key] = (values.get(key) or "").strip()
    return values


def validate(session: Session, values: dict[str, Any], actor: Principal) -> None:
    """Check a full set of resource values; resolves provider_id (id, slug or USCC) in place."""
    from cityos.directory.services import get_organisation

    try:
        provider = get_organisation(session, values["provider_id"])
    except ProblemError:
        raise field_error(
            "unknown_provider",
            "provider_id",
            lazy("Unknown provider organisation: {id}"),
            id=values["provider_id"],
        ) from None
    values["provider_id"] = provider.id
    if not policy.can_create_for(actor, provider.id):
        raise forbidden("Only the provider's data officers may catalogue its resources.")
    code = values["class_code"]
    if not CLASS_RE.match(code or ""):
        raise field_error(
            "unknown_class",
            "class_code",
            lazy("Unknown resource class: {class_code}"),
            class_code=code,
        )
    if session.get(ResourceClass, code) is None:
        ensure_default_classes(session)  # a new installation, or a new department
        if session.get(ResourceClass, code) is None:
            raise field_error(
                "unknown_class",
                "class_code",
                lazy("Unknown resource class: {class_code}"),
                class_code=code,
            )
    for key, allowed in ENUMS.items():
        if values[key] not in allowed:
            raise field_error(
                f"invalid_{key}",
                key,
                lazy("Invalid value {value} for {field}; expected one of: {allowed}"),
                value=values[key],
                field=key,
                allowed=", ".join(allowed),
            )
    if values["share_type"] == "none" and not values["share_basis"]:
        raise field_error(
            "share_basis_required",
            "share_basis",
            lazy("A resource that is not shared (不予共享) must cite its legal basis."),
        )
    for district in values["districts"]:
        if district not in DISTRICTS:
            raise field_error(
                "invalid_district",
                "districts",
                lazy("Unknown district code (GB/T 2260): {district}"),
                district=district,
            )
    _check_items(values["items"])
    fields = {i["field"] for i in values["items"]}
    for key_field in values["key_fields"]:
        if key_field not in fields:
            raise field_error(
                "unknown_key_field",
                "key_fields",
                lazy("Key field {field} is not one of the resource's items."),
                field=key_field,
            )
