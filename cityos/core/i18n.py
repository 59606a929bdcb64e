"""zh-Hans first, English second.

Message ids are English; each domain keeps a Babel catalog of its zh-Hans translations in
``cityos/locale/zh_Hans/LC_MESSAGES/<domain>.po``. The locale of the current request lives in a
context variable so that ``_()`` works in services, API errors and templates alike.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.messages.pofile import read_po

LOCALES = ("zh_Hans", "en")
DEFAULT_LOCALE = "zh_Hans"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DISPLAY_TZ = ZoneInfo("Asia/Shanghai")

_current_locale: ContextVar[str] = ContextVar("cityos_locale", default=DEFAULT_LOCALE)


@cache
def catalog(locale: str) -> dict[str, str]:
    messages: dict[str, str] = {}
    for po_path in sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with po_path.open("rb") as fh:
            for message in read_po(fh, locale=locale.replace("_Hans", "")):
                if message.id and message.string and not message.fuzzy:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    value = message.string if isinstance(message.string, str) else message.string[0]
                    messages[key] = value
    return messages


def normalize_locale(value: str | None) -> str | None:
    if not value:
        return None
    v = value.strip().lower().replace("-", "_")
    if v.startswith("zh"):
        return "zh_Hans"
    if v.startswith("en"):
        return "en"
    return None


def negotiate(accept_language: str | None) -> str | None:
    """Pick our locale from an Accept-Language header, honouring q-values."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        locale = normalize_locale(tag)
        if locale and q > 0:
            ranked.append((-q, index, locale))
    return sorted(ranked)[0][2] if ranked else None


def set_locale(locale: str) -> Any:
    return _current_locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def get_locale() -> str:
    return _current_locale.get()


def gettext(message: str, **params: Any) -> str:
    text = catalog(get_locale()).get(message, message) if get_locale() != "en" else message
    return text.format(**params) if params else text


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    return gettext(singular if n == 1 else plural, n=n, **params)


_ = gettext


def lazy(message: str) -> str:
    """Mark a message for extraction without translating it now (translated when shown)."""
    return message


def format_datetime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(DISPLAY_TZ).strftime(fmt)
