"""Prepared page and count statements per query shape, so a call only binds its values.

A shape is the set of filter keys (with whether each value is one value, several or empty),
the sort and the selected fields. Its statements are built once per plan (``Plan.statements``)
with bound parameters for the filter values, the limit and the offset; SQLAlchemy then reuses
the compiled SQL without rebuilding or re-keying the statement. ``q`` and ``contains`` filters are
not prepared (they are built per call by ``records.where_clauses``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, Text, bindparam, func, select

from cityos.datastore.crypt import bi_name
from cityos.datastore.query import _split, _typed, order_by
from cityos.exchange.plan import Plan

Binder = Callable[[Any], Any]


@dataclass(frozen=True)
class Prepared:
    page: Select[Any]
    count: Select[Any]
    binders: tuple[tuple[str, str, Binder], ...]  # (parameter, filter key, value → bound)

    def params(self, filters: dict[str, Any], limit: int, offset: int) -> dict[str, Any]:
        out: dict[str, Any] = {"lim": limit, "off": offset}
        for param, key, bind in self.binders:
            out[param] = bind(filters[key])
        return out


def _kind(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "many"
    if value is None or value == "":
        return "none"
    return "one"


def shape_key(filters: dict[str, Any], sort: str | None, selected: list[str]) -> tuple[Any, ...]:
    return (tuple((k, _kind(v)) for k, v in filters.items()), sort, tuple(selected))


def _converter(plan: Plan, name: str) -> tuple[Any, Callable[[Any], Any]]:
    """(column to compare, value → bound value) for a field: the blind index when encrypted."""
    data_type = plan.encrypted.get(name)
    if data_type is not None and plan.cipher is not None and plan.table is not None:
        cipher, full = plan.cipher, plan.full
        return plan.table.c[bi_name(name)], lambda v: cipher.index_value(
            _typed(full, name, v), data_type
        )
    view = plan.view
    return view.columns[name], lambda v: _typed(view, name, v)


def _clause(
    plan: Plan, key: str, name: str, op: str, kind: str, param: str
) -> tuple[ColumnElement[bool], Binder | None]:
    column, convert = _converter(plan, name)
    typed = Text() if name in plan.encrypted else column.type
    if op in ("eq", "ne") and kind == "none":
        return (column.is_(None) if op == "eq" else column.is_not(None)), None
    if op == "in" or (op == "eq" and kind == "many"):
        many = bindparam(param, expanding=True, type_=typed)

        def bind_many(value: Any) -> list[Any]:
            values = _split(value) if op == "in" else list(value)
            return [convert(v) for v in values]

        return column.in_(many), bind_many

    def bind_one(value: Any) -> Any:
        if isinstance(value, list | tuple):
            value = value[-1] if value else None
        return convert(value)

    one = bindparam(param, type_=typed)
    compare = {
        "eq": column.__eq__,
        "ne": column.is_distinct_from,
        "gt": column.__gt__,
        "gte": column.__ge__,
        "lt": column.__lt__,
        "lte": column.__le__,
    }[op]
    return compare(one), bind_one


def prepare(
    plan: Plan,
    filters: dict[str, Any],
    sort: str | None,
    selected: list[str],
    select_list: list[Any],
    scope_where: Callable[[], list[ColumnElement[bool]]],
    dialect: str,
    split_key: Callable[[str], tuple[str, str]],
) -> Prepared | None:
    """The prepared statements of this shape (built on first use); None when not preparable."""
    key = shape_key(filters, sort, selected)
    found = plan.statements.get(key)
    if found is not None:
        return found
    where = list(scope_where())
    binders: list[tuple[str, str, Binder]] = []
    for i, (filter_key, value) in enumerate(filters.items()):
        name, op = split_key(filter_key)
        if op == "contains":
            return None
        clause, bind = _clause(plan, filter_key, name, op, _kind(value), f"p{i}")
        where.append(clause)
        if bind is not None:
            binders.append((f"p{i}", filter_key, bind))
    view = plan.view
    page = (
        select(*select_list)
        .select_from(view.from_)
        .where(*where)
        .order_by(*order_by(view, sort, dialect))
        .limit(bindparam("lim", type_=BigInteger()))
        .offset(bindparam("off", type_=BigInteger()))
    )
    count = select(func.count()).select_from(view.from_).where(*where)
    prepared = Prepared(page, count, tuple(binders))
    if len(plan.statements) < 256:
        plan.statements[key] = prepared
    return prepared
