"""The resource form of the workbench: raw text in, ResourceIn/ResourcePatch out, with errors.

Items are typed as one line each::

    field|名称|type|length|sensitivity|description|unit|required

Only ``field`` and ``名称`` are required; the rest may be left empty (type ``string``,
sensitivity ``public``). ``required`` is yes/true/1/是. Blank lines and lines starting with
``#`` are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from cityos.catalog.models import ITEM_TYPES, SENSITIVITIES, ResourceItem
from cityos.catalog.schemas import ItemIn, ResourceIn, ResourcePatch
from cityos.catalog.validation import FIELD_RE
from cityos.core.errors import ProblemError
from cityos.core.i18n import gettext, lazy

LIST_SPLIT = re.compile(r"[,，、;；\n\r]+")
CODE_SPLIT = re.compile(r"[\s,，、;；]+")
TRUE_WORDS = {"1", "y", "yes", "true", "是", "必填", "required"}
FORM_FIELDS = (
    "name",
    "class_code",
    "provider_id",
    "summary",
    "format",
    "share_type",
    "share_condition",
    "share_method",
    "share_basis",
    "open_type",
    "open_condition",
    "update_cycle",
    "published_on",
    "keywords",
    "related_codes",
    "key_fields",
    "items",
)


@dataclass
class ResourceForm:
    """What the user typed (kept as text, so that a re-rendered form shows it unchanged)."""

    values: dict[str, str] = field(default_factory=dict)
    districts: list[str] = field(default_factory=list)

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)


def split_list(text: str) -> list[str]:
    return [part.strip() for part in LIST_SPLIT.split(text or "") if part.strip()]


def split_codes(text: str) -> list[str]:
    return [part.strip() for part in CODE_SPLIT.split(text or "") if part.strip()]


def item_line(item: ResourceItem) -> str:
    parts = [
        item.field,
        item.name,
        item.data_type,
        str(item.length) if item.length else "",
        item.sensitivity,
        item.description or "",
        item.unit or "",
        "yes" if item.required else "",
    ]
    while parts and not parts[-1]:
        parts.pop()
    return "|".join(p.replace("|", "/").replace("\n", " ") for p in parts)


def _line_error(errors: list[dict[str, Any]], n: int, message: str, **params: Any) -> None:
    errors.append(
        {
            "field": f"items.line{n}",
            "code": "invalid_item_line",
            "message": gettext("Line {n}: ", n=n) + gettext(message, **params),
        }
    )


def parse_items(text: str) -> list[ItemIn]:
    """One item per line; raises a 422 listing every bad line."""
    items: list[ItemIn] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        parts += [""] * (8 - len(parts))
        if len(parts) > 8:
            _line_error(errors, n, lazy("too many columns (at most 8)."))
            continue
        fld, name, data_type, length, sensitivity, description, unit, required = parts
        if not FIELD_RE.match(fld):
            _line_error(
                errors,
                n,
                lazy("the field name {field} must start with a-z and use only a-z, 0-9 and _."),
                field=fld or "—",
            )
            continue
        if fld in seen:
            _line_error(errors, n, lazy("the field {field} appears twice."), field=fld)
            continue
        seen.add(fld)
        if not name:
            _line_error(errors, n, lazy("the item needs a name (second column)."))
            continue
        data_type = data_type or "string"
        if data_type not in ITEM_TYPES:
            _line_error(
                errors,
                n,
                lazy("unknown type {value}; use one of {allowed}."),
                value=data_type,
                allowed=", ".join(ITEM_TYPES),
            )
            continue
        sensitivity = sensitivity or "public"
        if sensitivity not in SENSITIVITIES:
            _line_error(
                errors,
                n,
                lazy("unknown sensitivity {value}; use one of {allowed}."),
                value=sensitivity,
                allowed=", ".join(SENSITIVITIES),
            )
            continue
        if length and not (length.isdigit() and 0 < int(length) <= 1_000_000):
            _line_error(errors, n, lazy("the length must be a whole number."))
            continue
        try:
            items.append(
                ItemIn(
                    field=fld,
                    name=name,
                    data_type=data_type,
                    length=int(length) if length else None,
                    sensitivity=sensitivity,
                    description=description,
                    unit=unit,
                    required=required.lower() in TRUE_WORDS,
                )
            )
        except ValidationError as exc:
            _line_error(
                errors, n, lazy("invalid value: {reason}"), reason=exc.errors()[0].get("msg", "")
            )
    if errors:
        raise ProblemError(
            422,
            "invalid_items",
            "Some information items are invalid; see the lines listed.",
            errors=errors,
        )
    return items


def _payload(form: ResourceForm) -> dict[str, Any]:
    get = form.get
    return {
        "name": get("name").strip(),
        "class_code": get("class_code").strip(),
        "provider_id": get("provider_id").strip(),
        "summary": get("summary"),
        "format": get("format") or "database",
        "share_type": get("share_type") or "unconditional",
        "share_condition": get("share_condition"),
        "share_method": get("share_method") or "interface",
        "share_basis": get("share_basis"),
        "open_type": get("open_type") or "none",
        "open_condition": get("open_condition"),
        "update_cycle": get("update_cycle") or "irregular",
        "published_on": get("published_on").strip() or None,
        "keywords": split_list(get("keywords")),
        "districts": list(form.districts),
        "related_codes": split_codes(get("related_codes")),
        "key_fields": split_codes(get("key_fields")),
        "items": parse_items(get("items")),
    }


def _validation_problem(exc: ValidationError) -> ProblemError:
    errors = [
        {
            "field": ".".join(str(p) for p in err.get("loc", ())),
            "code": str(err.get("type", "invalid")),
            "message": str(err.get("msg", "")),
        }
        for err in exc.errors()
    ]
    return ProblemError(422, "validation_error", "The form has errors.", errors=errors)


def to_resource_in(form: ResourceForm) -> ResourceIn:
    try:
        return ResourceIn(**_payload(form))
    except ValidationError as exc:
        raise _validation_problem(exc) from None


def to_resource_patch(form: ResourceForm) -> ResourcePatch:
    try:
        return ResourcePatch(**_payload(form))
    except ValidationError as exc:
        raise _validation_problem(exc) from None


def form_from_resource(resource: Any, items: list[ResourceItem]) -> ResourceForm:
    values = {
        key: str(getattr(resource, key) or "")
        for key in FORM_FIELDS
        if key not in ("keywords", "related_codes", "key_fields", "items", "published_on")
    }
    values["published_on"] = resource.published_on.isoformat() if resource.published_on else ""
    values["keywords"] = "，".join(resource.keywords or [])
    values["related_codes"] = " ".join(resource.related_codes or [])
    values["key_fields"] = ", ".join(resource.key_fields or [])
    values["items"] = "\n".join(item_line(i) for i in items)
    return ResourceForm(values=values, districts=list(resource.districts or []))
