"""Streamed exports (flat memory): CSV, JSON, NDJSON and XLSX.

- CSV: UTF-8 with a BOM (Excel then opens Chinese text correctly); the header row holds the
  items' *field names* (not the Chinese names), so an export loads back unchanged.
- JSON: one array of objects, streamed; NDJSON: one object per line.
- XLSX: openpyxl ``write_only`` into a spooled temporary file, then streamed; row 1 holds the
  field names. At most 1,048,575 records (the sheet's limit): use CSV beyond that.

Values as in the API: dates ``YYYY-MM-DD``, datetimes ISO 8601 with the +08:00 offset (XLSX: the
local time, Asia/Shanghai). ``_id`` is left out unless asked for in ``fields``.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select

from cityos.core.db import Database
from cityos.core.errors import ProblemError
from cityos.core.i18n import DISPLAY_TZ
from cityos.crypto.envelope import data_key
from cityos.datastore.query import View, count, formatters, select_fields, statement

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "ndjson": "application/x-ndjson",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
XLSX_MAX_ROWS = 1_048_575
FLUSH_BYTES = 1 << 16
FETCH_ROWS = 5_000


def _rows(db: Database, stmt: Select[Any], view: View | None = None) -> Iterator[Any]:
    """Rows from a server-side cursor (PostgreSQL) / a lazy cursor (SQLite), in batches;
    encrypted fields decrypted (``view``: the view the statement selects from)."""
    decode = None
    if view is not None and view.cipher is not None:
        view.cipher = view.cipher.with_lookup(_lookup(db))
        decode = view.decoder([c.name for c in stmt.selected_columns])
    with db.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=FETCH_ROWS).execute(stmt)
        try:
            if decode is None:
                yield from result
            else:
                for row in result:
                    yield decode(row)
        finally:
            result.close()


def _lookup(db: Database) -> Callable[[str], bytes]:
    """Data keys by id for a stream that outlives the request's session."""

    def lookup(key_id: str) -> bytes:
        with db.session() as session:
            return data_key(session, key_id)

    return lookup


def _raw_datetime(value: Any) -> Any:
    """A datetime as the driver gives it (SQLite: naive UTC text) → ISO 8601 at +08:00."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(DISPLAY_TZ).isoformat()


def _raw_boolean(value: Any) -> Any:
    return None if value is None else ("true" if value else "false")


def _raw_converters(view: View, names: list[str]) -> list[tuple[int, Callable[[Any], Any]]]:
    """The columns whose driver values CSV cannot write as they are (dates already can:
    SQLite keeps ISO text and ``str(date)`` is ISO; None is written as an empty cell)."""
    out: list[tuple[int, Callable[[Any], Any]]] = []
    for i, name in enumerate(names):
        if view.types[name] == "datetime":
            out.append((i, _raw_datetime))
        elif view.types[name] == "boolean":
            out.append((i, _raw_boolean))
    return out


def _csv_raw(db: Database, stmt: Select[Any], names: list[str], view: View) -> Iterator[bytes]:
    """CSV from the driver's cursor in batches (no per-value SQLAlchemy processing; whole
    batches written by the C csv writer): the path of unencrypted tables."""
    convert = _raw_converters(view, names)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(names)
    yield b"\xef\xbb\xbf"
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":  # SQLite's own cursor: text dates stay text
            result = conn.execute(stmt)
            batches: Iterator[Any] = iter(lambda: result.cursor.fetchmany(FETCH_ROWS), [])
        else:  # a server-side cursor, already read from by SQLAlchemy: take its partitions
            result = conn.execution_options(stream_results=True).execute(stmt)
            batches = result.partitions(FETCH_ROWS)
        try:
            for batch in batches:
                if convert:
                    batch = [_converted(row, convert) for row in batch]
                writer.writerows(batch)
                if buf.tell() >= FLUSH_BYTES:
                    yield buf.getvalue().encode("utf-8")
                    buf.seek(0)
                    buf.truncate()
        finally:
            result.close()
    yield buf.getvalue().encode("utf-8")


def _converted(row: Any, convert: list[tuple[int, Callable[[Any], Any]]]) -> list[Any]:
    values = list(row)
    for i, func in convert:
        values[i] = func(values[i])
    return values


def _csv(db: Database, stmt: Select[Any], names: list[str], view: View) -> Iterator[bytes]:
    if view.cipher is None:
        yield from _csv_raw(db, stmt, names, view)
        return
    fmt = formatters(view, names)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(names)
    yield b"\xef\xbb\xbf"
    for row in _rows(db, stmt, view):
        writer.writerow(
            [
                (
                    ""
                    if v is None
                    else (f(v) if f else ("true" if v is True else "false" if v is False else v))
                )
                for f, v in zip(fmt, row, strict=True)
            ]
        )
        if buf.tell() >= FLUSH_BYTES:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def _json_lines(
    db: Database, stmt: Select[Any], names: list[str], view: View, *, array: bool
) -> Iterator[bytes]:
    fmt = formatters(view, names)
    parts: list[str] = ["["] if array else []
    size = 0
    first = True
    for row in _rows(db, stmt, view):
        record = {
            n: (f(v) if f and v is not None else v) for n, f, v in zip(names, fmt, row, strict=True)
        }
        text = json.dumps(record, ensure_ascii=False)
        if array:
            text = ("\n" if first else ",\n") + text
        else:
            text += "\n"
        first = False
        parts.append(text)
        size += len(text)
        if size >= FLUSH_BYTES:
            yield "".join(parts).encode("utf-8")
            parts.clear()
            size = 0
    if array:
        parts.append("\n]\n" if not first else "]\n")
    yield "".join(parts).encode("utf-8")


def _xlsx_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.astimezone(DISPLAY_TZ).replace(tzinfo=None)
    return v


def _xlsx(
    db: Database, stmt: Select[Any], names: list[str], title: str, view: View
) -> Iterator[bytes]:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    safe = "".join("-" if c in "[]:*?/\\" else c for c in title)[:31]
    ws = wb.create_sheet(title=safe or "data")
    ws.append(names)
    for row in _rows(db, stmt, view):
        ws.append([_xlsx_value(v) for v in row])
    with tempfile.SpooledTemporaryFile(max_size=32 << 20) as out:
        wb.save(out)
        out.seek(0)
        while chunk := out.read(FLUSH_BYTES):
            yield chunk


def stream(
    db: Database,
    view: View,
    fmt: str,
    *,
    filters: dict[str, Any] | None,
    q: str | None,
    sort: str | None,
    fields: list[str] | None,
) -> tuple[str, str, Iterator[bytes]]:
    """Validate eagerly (errors before the first byte), then stream lazily."""
    if fmt not in MEDIA_TYPES:
        raise ProblemError(
            404, "unsupported_format", "Unsupported export format {format}.", format=fmt
        )
    dialect = db.engine.dialect.name
    names = select_fields(view, fields, with_id=False)
    stmt, where = statement(view, names, filters=filters, q=q, sort=sort, dialect=dialect)
    filename = f"{(view.spec.code or view.spec.id).replace('/', '-')}.{fmt}"
    if view.from_ is None:
        stmt = stmt.limit(0)
    if fmt == "xlsx":
        with db.session() as session:
            n = count(session, view, where)
        if n > XLSX_MAX_ROWS:
            raise ProblemError(
                400,
                "too_many_rows",
                "{count} records do not fit in a spreadsheet; export CSV instead.",
                count=n,
            )
        return MEDIA_TYPES[fmt], filename, _xlsx(db, stmt, names, view.spec.code, view)
    if fmt == "csv":
        return MEDIA_TYPES[fmt], filename, _csv(db, stmt, names, view)
    return MEDIA_TYPES[fmt], filename, _json_lines(db, stmt, names, view, array=fmt == "json")
