"""Filtered, sorted, paged queries on the loaded table: our HTTP API and service against baselines.

Four queries (filters, a sort, 20 rows and an offset) are asked in turn, sequentially, with one
keep-alive HTTP client per server; ours and the baseline alternate request by request so that
noise hits both. Our API returns the page and the total; so do the baselines:
- SQLite, HTTP: Datasette's table JSON (page + ``filtered_table_rows_count``; its paging is keyset
  ``_next``, the token of the wanted page is fetched during warm-up) on a copy of the database;
- PostgreSQL, HTTP, and both backends in process: the same SQL (page with OFFSET + count) on a
  raw DB-API connection, the floor any implementation pays.
Timing starts once the indexes that our first queries make the datastore build (in the
background, on tables of 50,000 rows or more) exist; the baselines query the same, indexed table.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

import httpx

from bench import datasette
from bench.common import MAIN_BIN, WORK, Result, free_port, log, percentile, plain_pg_url, server
from bench.common import timed as timed_ms
from bench.load import Loaded
from cityos.datastore import services as datastore
from cityos.datastore.indexer import indexer_for

TARGET_MS = 20.0
BUDGET_S = 120.0  # per side and per measurement: slow queries get fewer samples
PAGE = 20
Cond = tuple[str, str, Any]  # field, op (eq, gte, lte), value


@dataclass(frozen=True)
class Query:
    label: str
    conds: tuple[Cond, ...]
    sort: str
    desc: bool
    offset: int

    def ours(self) -> dict[str, str]:
        params = {f if op == "eq" else f"{f}__{op}": _text(v) for f, op, v in self.conds}
        sort = f"-{self.sort}" if self.desc else self.sort
        return {**params, "sort": sort, "limit": str(PAGE), "offset": str(self.offset)}

    def datasette(self) -> dict[str, str]:
        params = {
            f if op == "eq" else f"{f}__{op}": _text(v, sqlite=True) for f, op, v in self.conds
        }
        params["_sort_desc" if self.desc else "_sort"] = self.sort
        return {**params, "_size": str(PAGE), "_shape": "objects"}

    def sql(self, table: str, pg: bool) -> tuple[str, str, list[Any]]:
        """(page SQL, count SQL, parameters) for a raw DB-API connection."""
        ops = {"eq": "=", "gte": ">=", "lte": "<="}
        mark = "%s" if pg else "?"
        where = " AND ".join(f'"{f}" {ops[op]} {mark}' for f, op, _v in self.conds)
        values = [v if pg else _sqlite_value(v) for _f, _o, v in self.conds]
        way = "DESC" if self.desc else "ASC"  # ties follow the sort's direction, as ours do
        order = f'"{self.sort}" {way}, "_id" {way}'
        page = (
            f'SELECT * FROM "{table}" WHERE {where} ORDER BY {order} '
            f"LIMIT {PAGE} OFFSET {self.offset}"
        )
        return page, f'SELECT count(*) FROM "{table}" WHERE {where}', values


QUERIES = (
    Query(
        "美兰区, amount 20k–30k, -amount, offset 40",
        (("district", "eq", "美兰区"), ("amount", "gte", 20000.0), ("amount", "lte", 30000.0)),
        "amount",
        True,
        40,
    ),
    Query(
        "餐饮服务, March 2024, -ts",
        (
            ("category", "eq", "餐饮服务"),
            ("day", "gte", date(2024, 3, 1)),
            ("day", "lte", date(2024, 3, 31)),
        ),
        "ts",
        True,
        0,
    ),
    Query(
        "龙华区, flag, count ≥ 990, amount, offset 20",
        (("district", "eq", "龙华区"), ("flag", "eq", True), ("count", "gte", 990)),
        "amount",
        False,
        20,
    ),
    Query("name = 王伟, -day", (("name", "eq", "王伟"),), "day", True, 0),
)


def _text(value: Any, sqlite: bool = False) -> str:
    if isinstance(value, bool):
        return ("1" if value else "0") if sqlite else ("true" if value else "false")
    return value.isoformat() if isinstance(value, date) else str(value)


def _sqlite_value(value: Any) -> Any:
    return (
        int(value)
        if isinstance(value, bool)
        else _text(value)
        if isinstance(value, date)
        else value
    )


def _keys(rows: list[dict[str, Any]], field: str) -> list[Any]:
    """What to compare of a page: the sort values, since Datasette breaks ties by rowid
    ascending and we follow the sort's direction; ``ts`` (shown +08:00 by us, as stored UTC
    text by Datasette, and without ties) by ``id``."""
    return [r.get("id" if field == "ts" else field) for r in rows]


def raw_runner(
    loaded: Loaded, table: str
) -> tuple[Callable[[Query], list[Any]], Callable[[], None]]:
    """A function running a query's page and count on a raw connection, and its closer."""
    if loaded.inst.backend == "postgresql":
        import psycopg

        pg = psycopg.connect(plain_pg_url(loaded.inst.url), autocommit=True)

        def run_pg(query: Query) -> list[Any]:
            page, count, values = query.sql(table, pg=True)
            rows = pg.execute(page, values).fetchall()
            pg.execute(count, values).fetchone()
            return rows

        return run_pg, pg.close
    lite = sqlite3.connect(f"file:{loaded.inst.sqlite_file}?mode=ro", uri=True)

    def run_lite(query: Query) -> list[Any]:
        page, count, values = query.sql(table, pg=False)
        rows = lite.execute(page, values).fetchall()
        lite.execute(count, values).fetchone()
        return rows

    return run_lite, lite.close


def _get(client: httpx.Client, path: str, params: dict[str, str]) -> dict[str, Any]:
    response = client.get(path, params=params)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _stats(
    name: str,
    backend: str,
    mine: list[float],
    base: list[float],
    baseline: str,
    target: bool,
    note: str,
) -> list[Result]:
    out = []
    for pct in (50, 95) if target else (50,):
        ours_ms, base_ms = percentile(mine, pct), percentile(base, pct)
        met = ours_ms <= TARGET_MS and (baseline != "Datasette" or ours_ms <= base_ms)
        out.append(
            Result(
                f"query p{pct}, {name}",
                backend,
                ours_ms,
                base_ms,
                "ms",
                (f"≤ {TARGET_MS:.0f} ms" + (" and ≤ Datasette" if baseline == "Datasette" else ""))
                if target
                else "—",
                met if target else None,
                note=f"vs {baseline}; {note}" if pct == 50 else "",
            )
        )
    return out


def datasette_baseline(
    stack: contextlib.ExitStack[Any], loaded: Loaded, ours_http: httpx.Client, path: str
) -> Callable[[Query], Any]:
    """Serve a copy of our database with Datasette; check it answers as we do (warm-up)."""
    copy = WORK / "datasette" / "cityos.db"
    copy.parent.mkdir(exist_ok=True)
    copy.unlink(missing_ok=True)
    # the backup API: a consistent copy, WAL included, without checkpointing under the app
    source = sqlite3.connect(f"file:{loaded.inst.sqlite_file}?mode=ro", uri=True)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    client = stack.enter_context(
        httpx.Client(base_url=stack.enter_context(datasette.serve(copy)), timeout=60)
    )
    ds_path = f"/cityos/ds_{loaded.resource_id}.json"
    tokens: dict[Query, dict[str, str]] = {}
    for query in QUERIES:  # the keyset token of the wanted page
        token: dict[str, str] = {}
        past_end = False  # fewer rows than the offset: the page is empty (small --rows)
        for _ in range(query.offset // PAGE):
            after = _get(client, ds_path, {**query.datasette(), **token}).get("next")
            past_end = past_end or after is None
            token = {"_next": after} if after else token
        tokens[query] = token
        theirs = _get(client, ds_path, {**query.datasette(), **token})
        mine = _get(ours_http, path, query.ours())
        expected = [] if past_end else _keys(theirs["rows"], query.sort)
        if (expected, theirs.get("filtered_table_rows_count")) != (
            _keys(mine["records"], query.sort),
            mine["total"],
        ):
            log(f"  warning: Datasette and we disagree on {query.label}")
    return lambda query: _get(client, ds_path, {**query.datasette(), **tokens[query]})


def _alternate(
    requests: int, mine: Callable[[Query], Any], theirs: Callable[[Query], Any]
) -> tuple[list[float], list[float], dict[str, list[float]]]:
    """Warm up, then time ``requests`` calls of each, alternating, queries in turn.

    Stops early (after at least 10 rounds of the queries) once BUDGET_S seconds have passed.
    """
    for query in QUERIES * 3:
        mine(query)
        theirs(query)
    ours_ms: list[float] = []
    base_ms: list[float] = []
    per_query: dict[str, list[float]] = {}
    deadline = time.monotonic() + BUDGET_S
    for i in range(requests):
        if i >= 10 * len(QUERIES) and time.monotonic() > deadline:
            break
        query = QUERIES[i % len(QUERIES)]
        ours_ms.append(timed_ms(partial(mine, query)))
        per_query.setdefault(query.label, []).append(ours_ms[-1])
        base_ms.append(timed_ms(partial(theirs, query)))
    return ours_ms, base_ms, per_query


def service_call(loaded: Loaded) -> Callable[[Query], Any]:
    """A query through ``datastore.services.query`` in process (no HTTP, no access check)."""

    def service(query: Query) -> Any:
        params = query.ours()
        filters = {k: v for k, v in params.items() if k not in ("sort", "limit", "offset")}
        return datastore.query(
            loaded.inst.db,
            loaded.resource_id,
            filters=filters,
            sort=params["sort"],
            limit=PAGE,
            offset=query.offset,
        )

    return service


def settle_indexes(loaded: Loaded, ask: Callable[[Query], Any], timeout_s: float = 900) -> None:
    """Ask each query once, then wait for the query-driven indexes they trigger.

    The datastore builds, in the background, one composite index per query shape on tables of
    50,000 rows or more (cityos/datastore/indexer.py); timing starts once those exist, as for a
    table in use. The Datasette baseline then serves a copy of the same file, indexes included.
    """
    from sqlalchemy import inspect

    from cityos.datastore.indexer import AUTO_INDEX_MIN_ROWS, index_name, query_shape

    table = f"ds_{loaded.resource_id}"
    wanted = set()
    for query in QUERIES:
        params = query.ours()
        filters = {k: v for k, v in params.items() if k not in ("sort", "limit", "offset")}
        shape = query_shape(filters, params.get("sort"))
        if shape[:1] != ("id",):  # the key is indexed already
            wanted.add(index_name(table, shape))
        ask(query)
    if loaded.rows < AUTO_INDEX_MIN_ROWS:  # too small to be indexed: nothing to wait for
        return
    started = time.monotonic()
    while True:
        have = {i["name"] for i in inspect(loaded.inst.db.engine).get_indexes(table)}
        if wanted <= have or time.monotonic() - started > timeout_s:
            break
        time.sleep(1)
    shapes = [i["column_names"] for i in inspect(loaded.inst.db.engine).get_indexes(table)]
    log(f"  query-driven indexes ready after {time.monotonic() - started:.1f} s: {shapes}")


def run(loaded: Loaded, requests: int) -> tuple[list[Result], dict[str, str]]:
    inst, rid = loaded.inst, loaded.resource_id
    raw, close_raw = raw_runner(loaded, f"ds_{rid}")
    versions: dict[str, str] = {}
    path = f"/api/v1/datastore/{rid}/records"
    port = free_port()
    cmd = [str(MAIN_BIN / "cityos"), "serve", "--data-dir", str(inst.data_dir), "--port", str(port)]
    log(f"querying {loaded.rows:,} rows ({inst.backend}): {requests} HTTP requests each side")
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(
            server(cmd, port, "/api/v1/openapi.json", env=inst.env, logname="cityos")
        )
        ours_http = stack.enter_context(httpx.Client(base_url=base, timeout=60))
        settle_indexes(loaded, lambda query: _get(ours_http, path, query.ours()))
        if inst.backend == "sqlite":
            versions["Datasette"] = datasette.version()
            other, baseline = datasette_baseline(stack, loaded, ours_http, path), "Datasette"
        else:
            other, baseline = raw, "raw SQL (psycopg)"
        mine, theirs, per_query = _alternate(
            requests, lambda query: _get(ours_http, path, query.ours()), other
        )
    slow = max(per_query, key=lambda k: percentile(per_query[k], 50))
    note = f"{len(mine)} requests; slowest: {slow} p50 {percentile(per_query[slow], 50):.1f} ms"
    results = _stats("HTTP", inst.backend, mine, theirs, baseline, True, note)

    service = service_call(loaded)
    for query in QUERIES:  # this process's indexer checks the indexes once (they exist)
        service(query)
    indexer_for(inst.db).wait()
    svc, floor, _ = _alternate(requests, service, raw)
    close_raw()
    results += _stats(
        "service (no HTTP)", inst.backend, svc, floor, "raw SQL", False, f"{len(svc)} calls"
    )
    return results, versions
