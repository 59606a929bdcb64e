"""Reading records: filters, full-text substring search, sorting, paging and field selection.

Filter grammar (also usable from query strings): ``field=value`` (equality; a list or a repeated
parameter means "one of"; an empty value means "no value"), ``field__op=value`` with ``op`` in
``ne``, ``gt``, ``gte``, ``lt``, ``lte``, ``in`` (comma separated) and ``contains`` (substring,
text fields). Sort: ``field``, ``-field``, ``field desc``, or a comma separated list of those
(CKAN style ``"aqi desc, name"``). Field names are checked against the items and every value is
a bound parameter; identifiers are quoted by SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    cast,
    false,
    func,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import KeyedColumnElement

from cityos.core.errors import ProblemError
from cityos.core.i18n import DISPLAY_TZ
from cityos.datastore.convert import parse_bool, parse_date, parse_datetime
from cityos.datastore.crypt import (
    ColumnCipher,
    bi_name,
    ct_name,
    encrypted_fields,
    field_encrypted,
    reader_cipher,
)
from cityos.datastore.models import DatastoreTable
from cityos.datastore.tables import ID_COLUMN, ResourceSpec, physical_table, sql_type

RESERVED = ("q", "sort", "limit", "offset", "fields", "include_total")
OPERATORS = ("ne", "gt", "gte", "lt", "lte", "in", "contains")
MAX_LIMIT = 1000
TEXT_TYPES = ("string", "text")


@dataclass
class QueryResult:
    fields: list[dict[str, Any]]
    records: list[dict[str, Any]]
    total: int | None
    limit: int = 100
    offset: int = 0


@dataclass
class View:
    """The resource's columns as SQL expressions, by field (``_id`` first)."""

    spec: ResourceSpec
    record: DatastoreTable | None
    columns: dict[str, KeyedColumnElement[Any]]
    types: dict[str, str]
    from_: Any = None
    names: dict[str, str] = field(default_factory=dict)
    # encrypted fields → (ciphertext column, blind-index column); decrypted by ``cipher``
    encrypted: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    cipher: ColumnCipher | None = None

    def decoder(self, names: list[str]) -> Callable[[Any], Any] | None:
        """A function decrypting the encrypted columns of result rows (None: nothing to do)."""
        fields = [(i, n, self.types[n]) for i, n in enumerate(names) if n in self.encrypted]
        if not fields or self.cipher is None:
            return None
        return self.cipher.decoder(fields)


def unknown_field(name: str) -> ProblemError:
    return ProblemError(400, "unknown_field", "Unknown field: {field}", field=name)


def bad_value(name: str, value: Any, data_type: str) -> ProblemError:
    return ProblemError(
        400,
        "bad_filter_value",
        "Filter on {field}: '{value}' is not a valid {type} value.",
        field=name,
        value=str(value)[:60],
        type=data_type,
    )


def make_view(session: Session, spec: ResourceSpec) -> View:
    record = session.get(DatastoreTable, spec.id)
    stored: dict[str, str] = dict(record.columns) if record is not None else {}
    secret = [f for f in encrypted_fields(record) if f in stored]
    table = physical_table(spec.table_name, stored, secret) if record is not None else None
    encrypted: dict[str, tuple[Any, Any]] = {}
    columns: dict[str, KeyedColumnElement[Any]] = {}
    types: dict[str, str] = {}
    names = {ID_COLUMN: ID_COLUMN}
    if table is not None:
        columns[ID_COLUMN] = table.c[ID_COLUMN]
    else:
        columns[ID_COLUMN] = cast(null(), sql_type("integer")).label(ID_COLUMN)
    types[ID_COLUMN] = "integer"
    for f in spec.fields:
        data_type = stored.get(f.field, f.data_type)
        if table is not None and f.field in secret:
            ct, bi = table.c[ct_name(f.field)], table.c[bi_name(f.field)]
            columns[f.field] = ct.label(f.field)
            encrypted[f.field] = (ct, bi)
        elif table is not None and f.field in stored:
            columns[f.field] = table.c[f.field]
        else:  # an item added since the last load: no column yet
            columns[f.field] = cast(null(), sql_type(data_type)).label(f.field)
        types[f.field] = data_type
        names[f.field] = f.name
    cipher = reader_cipher(session, record) if encrypted else None
    return View(spec, record, columns, types, table, names, encrypted, cipher)


# --------------------------------------------------------------------------- values


def _typed(view: View, name: str, value: Any) -> Any:
    data_type = view.types[name]
    if value is None:
        return None
    if data_type in TEXT_TYPES:
        return value if isinstance(value, str) else str(value)
    if isinstance(value, str):
        text = value.strip()
        parsed: Any
        if data_type == "integer":
            try:
                parsed = int(text) if "_" not in text else None
            except ValueError:
                parsed = None
        elif data_type == "number":
            try:
                parsed = float(text) if "_" not in text else None
            except ValueError:
                parsed = None
        elif data_type == "boolean":
            parsed = parse_bool(text)
        elif data_type == "date":
            parsed = parse_date(text)
        else:
            parsed = parse_datetime(text)
        if parsed is None:
            raise bad_value(name, value, data_type)
        return parsed
    ok = {
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "date": isinstance(value, date) and not isinstance(value, datetime),
        "datetime": isinstance(value, datetime),
    }[data_type]
    if not ok:
        raise bad_value(name, value, data_type)
    if data_type == "datetime" and value.tzinfo is None:
        value = value.replace(tzinfo=DISPLAY_TZ)
    return value


def _split(value: Any) -> list[Any]:
    if isinstance(value, list | tuple | set):
        out: list[Any] = []
        for v in value:
            out.extend(_split(v) if isinstance(v, str) else [v])
        return out
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [value]


def filter_clauses(view: View, filters: dict[str, Any] | None) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    for key, value in (filters or {}).items():
        name, op = key, "eq"
        if key not in view.columns and "__" in key:
            name, _, op = key.rpartition("__")
            if op not in OPERATORS:
                raise unknown_field(key)
        if name not in view.columns:
            raise unknown_field(name)
        if name in view.encrypted:
            clauses.append(_encrypted_clause(view, name, op, value))
            continue
        col = view.columns[name]
        if op == "eq":
            if isinstance(value, list | tuple | set):
                values = [_typed(view, name, v) for v in value]
                clauses.append(col.in_(values) if values else false())
            elif value is None or value == "":
                clauses.append(col.is_(None))
            else:
                clauses.append(col == _typed(view, name, value))
        elif op == "ne":
            if value is None or value == "":
                clauses.append(col.is_not(None))
            else:
                clauses.append(col.is_distinct_from(_typed(view, name, value)))
        elif op == "in":
            values = [_typed(view, name, v) for v in _split(value)]
            clauses.append(col.in_(values) if values else false())
        elif op == "contains":
            if view.types[name] not in TEXT_TYPES:
                raise ProblemError(
                    400,
                    "bad_filter_value",
                    "Filter on {field}: 'contains' applies to text fields only.",
                    field=name,
                )
            clauses.append(col.icontains(str(value), autoescape=True))
        else:
            if isinstance(value, list | tuple):
                value = value[-1] if value else None
            typed = _typed(view, name, value)
            if typed is None:
                raise bad_value(name, value, view.types[name])
            compare: dict[str, Callable[[Any], ColumnElement[bool]]] = {
                "gt": col.__gt__,
                "gte": col.__ge__,
                "lt": col.__lt__,
                "lte": col.__le__,
            }
            clauses.append(compare[op](typed))
    return clauses


def _encrypted_clause(view: View, name: str, op: str, value: Any) -> ColumnElement[bool]:
    """Equality on an encrypted field, through its blind index; anything else is a 422."""
    ct, bi = view.encrypted[name]
    if op not in ("eq", "ne", "in") or view.cipher is None:
        raise field_encrypted(name)
    data_type = view.types[name]
    index = view.cipher.index_value

    def indexes(values: list[Any]) -> list[Any]:
        return [index(_typed(view, name, v), data_type) for v in values]

    if op == "in":
        found = indexes(_split(value))
        return bi.in_(found) if found else false()
    if isinstance(value, list | tuple | set) and op == "eq":
        found = indexes(list(value))
        return bi.in_(found) if found else false()
    if value is None or value == "":
        return ct.is_(None) if op == "eq" else ct.is_not(None)
    if isinstance(value, list | tuple | set):
        raise field_encrypted(name)
    digest = index(_typed(view, name, value), data_type)
    return bi == digest if op == "eq" else bi.is_distinct_from(digest)


def search_clause(view: View, q: str | None) -> ColumnElement[bool] | None:
    """Every word of ``q`` appears (as a substring, any case) in some text field (encrypted
    fields cannot be searched: they are left out)."""
    words = (q or "").split()
    if not words:
        return None
    text_cols = [
        view.columns[f]
        for f, t in view.types.items()
        if t in TEXT_TYPES and f not in view.encrypted
    ]
    if not text_cols:
        return false()
    return and_(*(or_(*(c.icontains(w, autoescape=True) for c in text_cols)) for w in words))


def order_by(view: View, sort: str | None, dialect: str) -> list[Any]:
    terms: list[Any] = []
    seen: set[str] = set()
    first_descending = False
    for part in (sort or "").split(","):
        part = part.strip()
        if not part:
            continue
        descending = False
        if part.startswith("-"):
            name, descending = part[1:].strip(), True
        else:
            bits = part.split()
            name = bits[0]
            if len(bits) == 2 and bits[1].lower() in ("asc", "desc"):
                descending = bits[1].lower() == "desc"
            elif len(bits) != 1:
                raise ProblemError(
                    400, "bad_sort", "Cannot read the sort order '{sort}'.", sort=part[:60]
                )
        if name not in view.columns:
            raise unknown_field(name)
        if name in view.encrypted:
            raise field_encrypted(name)
        if name in seen:
            continue
        seen.add(name)
        col = view.columns[name]
        term = col.desc() if descending else col.asc()
        if dialect == "sqlite" and name != ID_COLUMN:
            # NULLs sort as the largest values, as PostgreSQL does by default
            term = term.nulls_first() if descending else term.nulls_last()
        terms.append(term)
        first_descending = descending if len(terms) == 1 else first_descending
    if ID_COLUMN not in seen:
        # a stable order for paging; in the first term's direction, so that an index on that
        # term (which ends with the row id) serves the whole ORDER BY
        tie = view.columns[ID_COLUMN]
        terms.append(tie.desc() if first_descending else tie.asc())
    return terms


def select_fields(view: View, fields: list[str] | None, *, with_id: bool = True) -> list[str]:
    if fields:
        names = [f.strip() for f in fields if f and f.strip()]
        for name in names:
            if name not in view.columns:
                raise unknown_field(name)
        return list(dict.fromkeys(names))
    names = list(view.columns)
    return names if with_id else [n for n in names if n != ID_COLUMN]


def statement(
    view: View,
    names: list[str],
    *,
    filters: dict[str, Any] | None,
    q: str | None,
    sort: str | None,
    dialect: str,
) -> tuple[Select[Any], list[ColumnElement[bool]]]:
    where = filter_clauses(view, filters)
    searched = search_clause(view, q)
    if searched is not None:
        where.append(searched)
    stmt = select(*(view.columns[n] for n in names))
    if view.from_ is not None:
        stmt = stmt.select_from(view.from_)
    else:
        where.append(false())
    if where:
        stmt = stmt.where(*where)
    return stmt.order_by(*order_by(view, sort, dialect)), where


def count(session: Session, view: View, where: list[ColumnElement[bool]]) -> int:
    if view.from_ is None:
        return 0
    if not where and view.record is not None:
        return int(view.record.row_count or 0)
    stmt = select(func.count()).select_from(view.from_).where(*(where or [true()]))
    return int(session.scalar(stmt) or 0)


# --------------------------------------------------------------------------- output


def _iso_date(value: Any) -> Any:
    return value.isoformat() if value is not None else None


def _iso_datetime(value: Any) -> Any:
    return value.astimezone(DISPLAY_TZ).isoformat() if value is not None else None


def formatters(view: View, names: list[str]) -> list[Callable[[Any], Any] | None]:
    """Per column: None (already JSON-friendly) or a function to ISO text."""
    out: list[Callable[[Any], Any] | None] = []
    for name in names:
        data_type = view.types[name]
        out.append(
            _iso_date if data_type == "date" else _iso_datetime if data_type == "datetime" else None
        )
    return out


def field_info(view: View, names: list[str]) -> list[dict[str, Any]]:
    return [{"id": n, "type": view.types[n], "name": view.names.get(n, n)} for n in names]


def run_query(
    session: Session,
    view: View,
    *,
    filters: dict[str, Any] | None = None,
    q: str | None = None,
    sort: str | None = None,
    limit: int = 100,
    offset: int = 0,
    fields: list[str] | None = None,
    include_total: bool = True,
) -> QueryResult:
    if offset < 0 or limit < 0:
        raise ProblemError(400, "bad_paging", "limit and offset cannot be negative.")
    limit = min(limit, MAX_LIMIT)
    dialect = session.get_bind().dialect.name
    names = select_fields(view, fields)
    stmt, where = statement(view, names, filters=filters, q=q, sort=sort, dialect=dialect)
    records: list[dict[str, Any]] = []
    if view.from_ is not None and limit:
        fmt = formatters(view, names)
        plain = all(f is None for f in fmt)
        decode = view.decoder(names)
        for row in session.execute(stmt.limit(limit).offset(offset)):
            if decode is not None:
                row = decode(row)
            if plain:
                records.append(dict(zip(names, row, strict=True)))
            else:
                records.append(
                    {
                        n: (f(v) if f is not None else v)
                        for n, f, v in zip(names, fmt, row, strict=True)
                    }
                )
    total = count(session, view, where) if include_total else None
    return QueryResult(field_info(view, names), records, total, limit, offset)
