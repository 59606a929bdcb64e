"""CKAN action parameters arrive as JSON values (POST) or strings (GET/form): coerce both."""

from __future__ import annotations

import json
from typing import Any

from cityos.ckan.errors import ValidationFailed
from cityos.core.i18n import gettext

TRUE = {"true", "1", "yes", "on", "t", "y"}
FALSE = {"false", "0", "no", "off", "f", "n", ""}


def _scalar(value: Any) -> Any:
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def as_str(data: dict[str, Any], key: str, default: str = "") -> str:
    value = _scalar(data.get(key))
    if value is None:
        return default
    if isinstance(value, (dict, list)):
        raise ValidationFailed({key: [gettext("Must be a string")]})
    return str(value)


def required(data: dict[str, Any], key: str) -> str:
    value = as_str(data, key).strip()
    if not value:
        raise ValidationFailed({key: [gettext("Missing value")]})
    return value


def as_int(
    data: dict[str, Any],
    key: str,
    default: int,
    *,
    minimum: int | None = 0,
    maximum: int | None = None,
) -> int:
    """An integer parameter; values above ``maximum`` are capped, as CKAN does."""
    value = _scalar(data.get(key))
    if value is None or value == "":
        return default
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed({key: [gettext("Invalid integer")]}) from None
    if minimum is not None and number < minimum:
        raise ValidationFailed({key: [gettext("Must be at least {minimum}", minimum=minimum)]})
    if maximum is not None and number > maximum:
        return maximum
    return number


def as_bool(data: dict[str, Any], key: str, default: bool = False) -> bool:
    value = _scalar(data.get(key))
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValidationFailed({key: [gettext("Must be true or false")]})


def as_list(data: dict[str, Any], key: str) -> list[str] | None:
    """A list given as a JSON list, a JSON-encoded list string, a comma list or repeated keys."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        value = value[0]
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                raise ValidationFailed({key: [gettext("Invalid JSON list")]}) from None
        else:
            return [v.strip() for v in text.split(",") if v.strip()]
    if not isinstance(value, list):
        raise ValidationFailed({key: [gettext("Must be a list")]})
    return [str(v) for v in value]


def as_dict(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    """An object given as JSON or as a JSON-encoded string."""
    value = _scalar(data.get(key))
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValidationFailed({key: [gettext("Invalid JSON object")]}) from None
    if not isinstance(value, dict):
        raise ValidationFailed({key: [gettext("Must be a JSON object")]})
    return value
