"""Reading a granted resource: only granted items and rows, masked; pages and exports.

Rules on top of the datastore's query grammar (cityos/datastore/query.py):
- ``fields``, filters and ``sort`` may name granted items only (403 ``item_not_granted``);
- a masked item can be filtered by equality only (``field=v``, ``field__in=a,b``): ranges,
  ``contains``, ``ne`` and sorting on it would reveal the hidden value (403 ``item_masked``);
- ``q`` searches the granted text items that are not masked;
- the grant's row scope is ANDed with the caller's filters (field IN allowed values).
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import ColumnElement, false, func, select

from cityos.core.db import Database
from cityos.core.errors import ProblemError
from cityos.datastore.crypt import bi_name, ct_name, field_encrypted
from cityos.datastore.indexer import indexer_for, query_shape
from cityos.datastore.query import (
    MAX_LIMIT,
    OPERATORS,
    _split,
    _typed,
    field_info,
    filter_clauses,
    formatters,
    order_by,
    search_clause,
)
from cityos.datastore.tables import ID_COLUMN
from cityos.exchange.plan import Plan, scope_unenforceable
from cityos.exchange.statements import prepare

EQUALITY = ("eq", "in")
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "ndjson": "application/x-ndjson",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXPORT_MAX_ROWS = 1_048_575  # a spreadsheet's limit; the same for every format


def not_granted(name: str) -> ProblemError:
    return ProblemError(
        403, "item_not_granted", "The item {field} is not granted to this code.", field=name
    )


def masked_item(name: str) -> ProblemError:
    return ProblemError(
        403,
        "item_masked",
        "The item {field} is masked: it can only be matched exactly (field=value).",
        field=name,
    )


def split_key(key: str) -> tuple[str, str]:
    if "__" in key:
        name, _, op = key.rpartition("__")
        if op in OPERATORS:
            return name, op
    return key, "eq"


def check_request(
    plan: Plan, fields: list[str] | None, filters: dict[str, Any], sort: str | None
) -> list[str]:
    """The fields to return; refuses what the grant does not cover."""
    if plan.scope_missing:
        raise scope_unenforceable(plan)
    allowed = set(plan.granted) | {ID_COLUMN}
    names = list(dict.fromkeys(fields)) if fields else [ID_COLUMN, *plan.granted]
    for name in names:
        if name not in allowed:
            raise not_granted(name)
    masked = plan.masked
    for key in filters:
        name, op = split_key(key)
        if name not in allowed:
            raise not_granted(name)
        if name in masked and op not in EQUALITY:
            raise masked_item(name)
    for part in (sort or "").split(","):
        name = part.strip().lstrip("-").split(" ")[0].strip()
        if not name:
            continue
        if name not in allowed:
            raise not_granted(name)
        if name in masked:
            raise masked_item(name)
        if name in plan.encrypted:
            raise field_encrypted(name)
    return names


REDACTED = "***"


def audited_filters(plan: Plan | None, filters: dict[str, Any]) -> dict[str, Any]:
    """The filters as the audit record keeps them: values on a masked item in their masked
    form (an ID number looked up is logged as 4601**********1234), values on items outside the
    grant (or when the grant could not be read) replaced by ``***``."""
    out: dict[str, Any] = {}
    for key, value in filters.items():
        name, op = split_key(key)
        method = plan.methods.get(name) if plan is not None else None
        if plan is not None and (method == "keep" or name == ID_COLUMN):
            out[key] = value
        elif plan is not None and method is not None:
            out[key] = _masked(plan, name, op, value)
        else:
            out[key] = REDACTED
    return out


def _masked(plan: Plan, name: str, op: str, value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_masked(plan, name, "eq", v) for v in value]
    if op == "in" and isinstance(value, str):
        return ",".join(str(_masked(plan, name, "eq", v)) for v in value.split(","))
    return plan.mask({name: value})[name]


def columns(plan: Plan, selected: list[str]) -> list[Any]:
    """The SELECT list: an encrypted field is read from its ciphertext column."""
    out: list[Any] = []
    for name in selected:
        if name in plan.encrypted and plan.table is not None:
            out.append(plan.table.c[ct_name(name)].label(name))
        else:
            out.append(plan.view.columns[name])
    return out


def row_reader(plan: Plan, selected: list[str]) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """Row → record: decrypted, then dates and times as ISO text."""
    fmt = formatters(plan.view, selected)
    decode = None
    if plan.cipher is not None:
        wanted = [(i, n, plan.encrypted[n]) for i, n in enumerate(selected) if n in plan.encrypted]
        decode = plan.cipher.decoder(wanted) if wanted else None
    plain = all(f is None for f in fmt)

    def read(row: Sequence[Any]) -> dict[str, Any]:
        values = decode(row) if decode is not None else row
        if plain:
            return dict(zip(selected, values, strict=True))
        return {
            n: (f(v) if f is not None and v is not None else v)
            for n, f, v in zip(selected, fmt, values, strict=True)
        }

    return read


def _encrypted_clauses(
    plan: Plan, filters: dict[str, Any]
) -> tuple[dict[str, Any], list[ColumnElement[bool]]]:
    """Filters on fields stored encrypted become blind-index comparisons (equality only)."""
    if not plan.encrypted:
        return filters, []
    assert plan.cipher is not None and plan.table is not None
    plain: dict[str, Any] = {}
    clauses: list[ColumnElement[bool]] = []
    for key, value in filters.items():
        name, op = split_key(key)
        data_type = plan.encrypted.get(name)
        if data_type is None:
            plain[key] = value
            continue
        if op not in ("eq", "in", "ne"):
            raise field_encrypted(name)
        column = plan.table.c[bi_name(name)]
        if op != "in" and (value is None or value == ""):
            clauses.append(column.is_(None) if op == "eq" else column.is_not(None))
            continue
        values = _split(value) if op == "in" else value if isinstance(value, list) else [value]
        indexes = [plan.cipher.index_value(_typed(plan.full, name, v), data_type) for v in values]
        if op == "ne":
            clauses.append(column.is_distinct_from(indexes[-1]))
        else:
            clauses.append(column.in_(indexes) if indexes else false())
    return plain, clauses


def where_clauses(plan: Plan, filters: dict[str, Any], q: str | None) -> list[ColumnElement[bool]]:
    plain, where = _encrypted_clauses(plan, filters)
    where += filter_clauses(plan.view, plain)
    scope, scoped = _encrypted_clauses(plan, {f"{f}__in": v for f, v in plan.scope.items()})
    where += scoped + filter_clauses(plan.full, scope)
    searched = search_clause(plan.search_view, q)
    if searched is not None:
        where.append(searched)
    return where


@dataclass
class Page:
    fields: list[dict[str, Any]]
    records: list[dict[str, Any]]
    row_ids: list[int]
    total: int | None


def _note_shape(db: Database, plan: Plan, filters: dict[str, Any], sort: str | None) -> None:
    """Tell the datastore's indexer the shape of this query (once per plan and shape)."""
    shaped = {**filters, **{f"{f}__in": v for f, v in plan.scope.items()}}
    shape = query_shape(shaped, sort)
    if shape in plan.noted:
        return
    plan.noted.add(shape)
    if any(f in plan.encrypted for f in shape):
        return
    if shape and shape[:1] != (ID_COLUMN,) and all(f in plan.full.columns for f in shape):
        indexer_for(db).note(plan.resource_id, shape, plan.row_count)


def _field_out(plan: Plan, names: list[str]) -> list[dict[str, Any]]:
    out = field_info(plan.view, names)
    for info in out:
        method = plan.methods.get(info["id"], "keep")
        if method != "keep":
            info["type"] = "string"
            info["masking"] = method
    return out


def page(
    db: Database,
    plan: Plan,
    *,
    fields: list[str] | None,
    filters: dict[str, Any],
    q: str | None,
    sort: str | None,
    limit: int,
    offset: int,
    include_total: bool,
) -> Page:
    if offset < 0 or limit < 0:
        raise ProblemError(400, "bad_paging", "limit and offset cannot be negative.")
    limit = min(limit, MAX_LIMIT)
    names = check_request(plan, fields, filters, sort)
    view = plan.view
    if view.from_ is None:  # nothing loaded yet
        return Page(_field_out(plan, names), [], [], 0 if include_total else None)
    selected = names if ID_COLUMN in names else [ID_COLUMN, *names]
    dialect = db.engine.dialect.name
    select_list = columns(plan, selected)
    prepared = None
    if not q:
        prepared = prepare(
            plan,
            filters,
            sort,
            selected,
            select_list,
            lambda: where_clauses(plan, {}, None),
            dialect,
            split_key,
        )
    if prepared is not None:
        stmt, count, params = prepared.page, prepared.count, prepared.params(filters, limit, offset)
    else:
        where = where_clauses(plan, filters, q)
        stmt = (
            select(*select_list)
            .select_from(view.from_)
            .where(*where)
            .order_by(*order_by(view, sort, dialect))
            .limit(limit)
            .offset(offset)
        )
        count, params = select(func.count()).select_from(view.from_).where(*where), {}
    read = row_reader(plan, selected)
    records: list[dict[str, Any]] = []
    row_ids: list[int] = []
    mask = plan.mask
    with db.engine.connect() as conn:
        for row in conn.execute(stmt, params):
            record = read(row)
            row_ids.append(int(record[ID_COLUMN]))
            if ID_COLUMN not in names:
                del record[ID_COLUMN]
            records.append(mask(record))
        total = int(conn.execute(count, params).scalar_one()) if include_total else None
    _note_shape(db, plan, filters, sort)
    return Page(_field_out(plan, names), records, row_ids, total)


# --------------------------------------------------------------------------- export


@dataclass
class Export:
    media_type: str
    filename: str
    file: IO[bytes]
    names: list[str]
    row_ids: list[int]


def _cell(value: Any) -> Any:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else value


def export(
    db: Database,
    plan: Plan,
    fmt: str,
    *,
    fields: list[str] | None,
    filters: dict[str, Any],
    q: str | None,
    sort: str | None,
) -> Export:
    """The masked export written to a spooled file (its audit record names every row)."""
    if fmt not in EXPORT_TYPES:
        raise ProblemError(
            404, "unsupported_format", "Unsupported export format {format}.", format=fmt
        )
    names = [n for n in check_request(plan, fields, filters, sort) if fields or n != ID_COLUMN]
    out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=16 << 20)  # noqa: SIM115
    row_ids: list[int] = []
    records = _export_rows(db, plan, names, filters, q, sort, row_ids)
    writer = {"csv": _write_csv, "json": _write_json, "ndjson": _write_ndjson, "xlsx": _write_xlsx}
    writer[fmt](out, names, records, plan.code)
    out.seek(0)
    filename = f"{(plan.code or plan.resource_id).replace('/', '-')}.{fmt}"
    return Export(EXPORT_TYPES[fmt], filename, out, names, row_ids)


def _export_rows(
    db: Database,
    plan: Plan,
    names: list[str],
    filters: dict[str, Any],
    q: str | None,
    sort: str | None,
    row_ids: list[int],
) -> Iterator[dict[str, Any]]:
    view = plan.view
    if view.from_ is None:
        return
    where = where_clauses(plan, filters, q)
    selected = names if ID_COLUMN in names else [ID_COLUMN, *names]
    stmt = (
        select(*columns(plan, selected))
        .select_from(view.from_)
        .where(*where)
        .order_by(*order_by(view, sort, db.engine.dialect.name))
        .limit(EXPORT_MAX_ROWS + 1)
    )
    read = row_reader(plan, selected)
    with db.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=5000).execute(stmt)
        for n, row in enumerate(result):
            if n >= EXPORT_MAX_ROWS:
                raise ProblemError(
                    400,
                    "too_many_rows",
                    "{count} records do not fit in a spreadsheet; export CSV instead.",
                    count=n,
                )
            record = read(row)
            row_ids.append(int(record[ID_COLUMN]))
            if ID_COLUMN not in names:
                del record[ID_COLUMN]
            yield plan.mask(record)


def _write_csv(out: IO[bytes], names: list[str], rows: Iterator[dict[str, Any]], _t: str) -> None:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    text.write("\ufeff")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(names)
    for record in rows:
        writer.writerow([_cell(record.get(n)) for n in names])
    text.flush()
    text.detach()


def _write_ndjson(
    out: IO[bytes], names: list[str], rows: Iterator[dict[str, Any]], _t: str
) -> None:
    for record in rows:
        out.write(json.dumps(record, ensure_ascii=False, default=str).encode() + b"\n")


def _write_json(out: IO[bytes], names: list[str], rows: Iterator[dict[str, Any]], _t: str) -> None:
    out.write(b"[")
    for i, record in enumerate(rows):
        out.write(
            (b",\n" if i else b"\n") + json.dumps(record, ensure_ascii=False, default=str).encode()
        )
    out.write(b"\n]\n")


def _write_xlsx(
    out: IO[bytes], names: list[str], rows: Iterator[dict[str, Any]], title: str
) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    safe = "".join("-" if c in "[]:*?/\\" else c for c in title)[:31]
    ws = wb.create_sheet(title=safe or "data")
    ws.append(names)
    for record in rows:
        ws.append([record.get(n) for n in names])
    wb.save(out)
