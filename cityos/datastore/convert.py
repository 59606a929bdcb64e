"""Per-column converters: source values → database values, or a :class:`RowError` with a reason.

Converters are built once per load (one closure per source column) and called in the hot loop;
they do no allocation beyond the converted value. Two families:

- ``text_converter``: for CSV cells (always ``str``);
- ``value_converter``: for JSON and spreadsheet values (``str``, numbers, booleans, dates, None).

The stored form depends on the backend: SQLite gets ISO strings for dates and UTC datetimes in
SQLAlchemy's storage format (so that the query layer reads them back); PostgreSQL gets
``date``/aware ``datetime`` objects (``timestamptz``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from cityos.core.i18n import DISPLAY_TZ, lazy

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
TRUE_WORDS = ("是", "true", "1")
FALSE_WORDS = ("否", "false", "0")
BOOLEANS = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}
DATE_RE = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})")
DATE_CN_RE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")

MSG_REQUIRED = lazy("{column}: a value is required.")
MSG_KEY_REQUIRED = lazy("{column}: a value is required (it is a key field).")
MSG_TOO_LONG = lazy("{column}: the value is longer than {length} characters.")
MSG_INTEGER = lazy("{column}: '{value}' is not an integer.")
MSG_INT_RANGE = lazy("{column}: {value} is out of the integer range.")
MSG_NUMBER = lazy("{column}: '{value}' is not a number.")
MSG_BOOLEAN = lazy("{column}: '{value}' is not a boolean (use 是/否, true/false or 1/0).")
MSG_DATE = lazy("{column}: '{value}' is not a date (use YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日).")
MSG_DATETIME = lazy("{column}: '{value}' is not an ISO 8601 date and time.")
MSG_NESTED = lazy("{column}: nested values (objects or lists) are not supported.")
MSG_TYPE = lazy("{column}: a value of type {kind} does not fit this field.")

Converter = Callable[[Any], Any]
# Asia/Shanghai has been UTC+8 without daylight saving since 1992: naive times from then on
# convert by arithmetic (zoneinfo conversions cost ten times more in the load's hot loop)
FIXED_OFFSET_SINCE = 1992
SHANGHAI_OFFSET = timedelta(hours=8)
EXACT_BOOLEANS = {
    **{w: True for w in ("是", "true", "True", "TRUE", "1")},
    **{w: False for w in ("否", "false", "False", "FALSE", "0")},
}
VALUE_PREVIEW = 60


class RowError(ValueError):
    """Why a row is rejected: an English msgid (translated when shown) and its parameters."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


def _show(value: Any) -> str:
    text = str(value)
    return text if len(text) <= VALUE_PREVIEW else text[: VALUE_PREVIEW - 1] + "…"


def parse_bool(text: str) -> bool | None:
    return BOOLEANS.get(text.strip().lower())


def parse_date(text: str) -> date | None:
    s = text.strip()
    try:
        if len(s) == 10 and s[4] == "-" and s[7] == "-":
            return date.fromisoformat(s)
        m = DATE_RE.fullmatch(s)
        if m:
            return date(int(m[1]), int(m[3]), int(m[4]))
        m = DATE_CN_RE.fullmatch(s)
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None
    return None


def parse_datetime(text: str) -> datetime | None:
    """ISO 8601; a value without an offset is Asia/Shanghai time. Returns an aware UTC value."""
    s = text.strip()
    if len(s) < 10 or s[4] != "-":
        return None
    try:
        value = datetime.fromisoformat(s)
    except ValueError:
        return None
    if value.tzinfo is None:
        if value.year >= FIXED_OFFSET_SINCE:
            return (value - SHANGHAI_OFFSET).replace(tzinfo=UTC)
        value = value.replace(tzinfo=DISPLAY_TZ)
    return value.astimezone(UTC)


def sqlite_datetime(value: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME storage format, in UTC (sorts and compares as text)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def stored_display(value: Any, data_type: str) -> Any:
    """A converted (stored) value as the user wrote it, for listing a rejected row."""
    if data_type == "datetime":
        if isinstance(value, str) and len(value) == 26 and value[10] == " ":  # SQLite storage
            value = datetime.fromisoformat(value).replace(tzinfo=UTC)
        if isinstance(value, datetime):
            return value.astimezone(DISPLAY_TZ).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _empty(label: str, required: bool, key: bool) -> None:
    if key:
        raise RowError(MSG_KEY_REQUIRED, column=label)
    if required:
        raise RowError(MSG_REQUIRED, column=label)


# --------------------------------------------------------------------------- text (CSV)


def text_converter(
    data_type: str,
    label: str,
    *,
    length: int | None = None,
    required: bool = False,
    key: bool = False,
    sqlite: bool = False,
) -> Converter:
    """A converter for CSV cells; surrounding spaces are ignored and an empty cell is NULL."""
    must = required or key

    if data_type in ("string", "text"):
        limit = length or 0

        def conv_str(v: str) -> Any:
            v = v.strip()
            if v:
                if limit and len(v) > limit:
                    raise RowError(MSG_TOO_LONG, column=label, length=limit)
                return v
            if must:
                _empty(label, required, key)
            return None

        return conv_str

    if data_type == "integer":

        def conv_int(v: str) -> Any:
            try:
                n = int(v)
            except ValueError:
                if not v.strip():
                    if must:
                        _empty(label, required, key)
                    return None
                raise RowError(MSG_INTEGER, column=label, value=_show(v)) from None
            if "_" in v:
                raise RowError(MSG_INTEGER, column=label, value=_show(v))
            if n < INT_MIN or n > INT_MAX:
                raise RowError(MSG_INT_RANGE, column=label, value=_show(v))
            return n

        return conv_int

    if data_type == "number":

        def conv_num(v: str) -> Any:
            try:
                x = float(v)
            except ValueError:
                if not v.strip():
                    if must:
                        _empty(label, required, key)
                    return None
                raise RowError(MSG_NUMBER, column=label, value=_show(v)) from None
            if "_" in v or not math.isfinite(x):
                raise RowError(MSG_NUMBER, column=label, value=_show(v))
            return x

        return conv_num

    if data_type == "boolean":

        def conv_bool(v: str) -> Any:
            b = BOOLEANS.get(v.strip().lower())
            if b is None:
                if not v.strip():
                    if must:
                        _empty(label, required, key)
                    return None
                raise RowError(MSG_BOOLEAN, column=label, value=_show(v))
            return b

        return conv_bool

    if data_type == "date":

        def conv_date(v: str) -> Any:
            d = parse_date(v)
            if d is None:
                if not v.strip():
                    if must:
                        _empty(label, required, key)
                    return None
                raise RowError(MSG_DATE, column=label, value=_show(v))
            return d.isoformat() if sqlite else d

        return conv_date

    if data_type == "datetime":

        def conv_dt(v: str) -> Any:
            t = parse_datetime(v)
            if t is None:
                if not v.strip():
                    if must:
                        _empty(label, required, key)
                    return None
                raise RowError(MSG_DATETIME, column=label, value=_show(v))
            return sqlite_datetime(t) if sqlite else t

        return conv_dt

    raise ValueError(f"unknown data type {data_type}")


# --------------------------------------------------------------------------- values (JSON, XLSX)


def value_converter(
    data_type: str,
    label: str,
    *,
    length: int | None = None,
    required: bool = False,
    key: bool = False,
    sqlite: bool = False,
) -> Converter:
    """A converter for typed values (JSON, spreadsheets); strings go through the text rules."""
    text = text_converter(
        data_type, label, length=length, required=required, key=key, sqlite=sqlite
    )
    must = required or key

    def wrong(v: Any) -> RowError:
        if isinstance(v, dict | list | tuple):
            return RowError(MSG_NESTED, column=label)
        return RowError(MSG_TYPE, column=label, kind=type(v).__name__)

    def conv(v: Any) -> Any:
        if v is None:
            if must:
                _empty(label, required, key)
            return None
        if isinstance(v, str):
            return text(v)
        if isinstance(v, bool):
            if data_type == "boolean":
                return v
            if data_type in ("string", "text"):
                return text("true" if v else "false")
            raise wrong(v)
        if isinstance(v, int):
            if data_type == "integer":
                if v < INT_MIN or v > INT_MAX:
                    raise RowError(MSG_INT_RANGE, column=label, value=_show(v))
                return v
            if data_type == "number":
                return float(v)
            if data_type == "boolean" and v in (0, 1):
                return bool(v)
            if data_type in ("string", "text"):
                return text(str(v))
            raise wrong(v)
        if isinstance(v, float):
            if not math.isfinite(v):
                raise RowError(MSG_NUMBER, column=label, value=_show(v))
            if data_type == "number":
                return v
            if data_type == "integer":
                if v.is_integer():
                    return text(str(int(v)))
                raise RowError(MSG_INTEGER, column=label, value=_show(v))
            if data_type in ("string", "text"):
                return text(str(int(v)) if v.is_integer() else repr(v))
            raise wrong(v)
        if isinstance(v, datetime):
            if data_type == "datetime":
                aware = v if v.tzinfo else v.replace(tzinfo=DISPLAY_TZ)
                return sqlite_datetime(aware) if sqlite else aware.astimezone(UTC)
            if data_type == "date":
                return v.date().isoformat() if sqlite else v.date()
            if data_type in ("string", "text"):
                return text(v.isoformat())
            raise wrong(v)
        if isinstance(v, date):
            if data_type == "date":
                return v.isoformat() if sqlite else v
            if data_type == "datetime":
                aware = datetime.combine(v, time(), DISPLAY_TZ)
                return sqlite_datetime(aware) if sqlite else aware.astimezone(UTC)
            if data_type in ("string", "text"):
                return text(v.isoformat())
            raise wrong(v)
        if isinstance(v, time) and data_type in ("string", "text"):
            return text(v.isoformat())
        raise wrong(v)

    return conv


# --------------------------------------------------------------------------- compiled fast path


class Slow(ValueError):
    """The fast path declines a row; the per-cell converters decide (value or RowError)."""


def _slow() -> Any:
    raise Slow


def compile_row(
    columns: list[tuple[str, int | None, bool]], *, sqlite: bool
) -> Callable[[Any], Any]:
    """One function converting a whole CSV row (a list of ``str``) for the common case.

    ``columns``: (data type, length limit, must have a value) per source column. The generated
    code inlines the usual spellings (``int()``, ``float()``, ISO dates, naive ISO datetimes
    after 1992, exact booleans) and raises on anything else, so that the caller falls back to
    the per-cell converters: it never accepts a value they refuse, and returns what they would.
    Only indexes and constants go into the generated source, never data.
    """
    env: dict[str, Any] = {
        "_slow": _slow,
        "_int": int,
        "_float": float,
        "_len": len,
        "_date": date.fromisoformat,
        "_dt": datetime.fromisoformat,
        "_bools": EXACT_BOOLEANS,
        "_off": SHANGHAI_OFFSET,
        "_utc": UTC,
        "_since": FIXED_OFFSET_SINCE,
        "_hours": tuple(f"{h:02d}" for h in range(24)),
        "_min": INT_MIN,
        "_max": INT_MAX,
    }
    body: list[str] = ["def convert(r):"]
    out: list[str] = []
    for i, (data_type, length, must) in enumerate(columns):
        v = f"v{i}"
        if data_type in ("string", "text"):
            body.append(f"    {v} = r[{i}].strip()" + ("" if must else " or None"))
            if must:
                body.append(f"    if not {v}: _slow()")
            if length:
                body.append(f"    if {v} is not None and _len({v}) > {int(length)}: _slow()")
        elif data_type == "integer":
            body.append(f"    {v} = _int(r[{i}])")
            body.append(f"    if {v} < _min or {v} > _max or '_' in r[{i}]: _slow()")
        elif data_type == "number":
            body.append(f"    {v} = _float(r[{i}])")
            body.append(f"    if {v} - {v} != 0 or '_' in r[{i}]: _slow()")
        elif data_type == "boolean":
            body.append(f"    {v} = _bools[r[{i}]]")
        elif data_type == "date":
            # a valid YYYY-MM-DD is stored as given (both backends parse it the same way)
            body.append(f"    {v} = r[{i}]")
            body.append(f"    if _len({v}) != 10 or {v}[4] != '-' or {v}[7] != '-': _slow()")
            body.append(f"    _date({v})")
        elif data_type == "datetime":
            # naive 'YYYY-MM-DD HH:MM:SS' (or T), Beijing time from 1992: UTC by text surgery
            # when the hour is 08 or later, by arithmetic otherwise
            body.append(f"    s = r[{i}]")
            body.append("    t = _dt(s)")
            body.append("    if t.tzinfo is not None or t.year < _since or s[4] != '-': _slow()")
            body.append("    h = t.hour")
            if sqlite:
                body.append("    if h >= 8 and _len(s) == 19 and s[13] == ':' and s[16] == ':':")
                body.append(f"        {v} = f'{{s[:10]}} {{_hours[h - 8]}}{{s[13:]}}.000000'")
                body.append("    else:")
                body.append(f"        {v} = (t - _off).isoformat(' ', 'microseconds')")
            else:
                # PostgreSQL parses the text with its offset (in the server, not here)
                body.append(
                    "    if _len(s) == 19 and s[10] in ' T' and s[13] == ':' and s[16] == ':':"
                )
                body.append(f"        {v} = s + '+08:00'")
                body.append("    else:")
                body.append(f"        {v} = (t - _off).replace(tzinfo=_utc)")
        else:
            raise ValueError(f"unknown data type {data_type}")
        out.append(v)
    body.append(f"    return ({', '.join(out)},)")
    exec(compile("\n".join(body), "<datastore row converter>", "exec"), env)
    function: Callable[[Any], Any] = env["convert"]
    return function
