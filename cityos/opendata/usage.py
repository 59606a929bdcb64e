"""Usage of open datasets: views, downloads and API calls counted in memory and added to
``opendata_usage_daily`` (one row per dataset and Asia/Shanghai day) in batches.

``count`` is on the hot path of the open API (thousands of calls per second): it adds to a dict
under a lock and returns. A background task (every ``CITYOS_USAGE_FLUSH_SECONDS``) and the app's
shutdown hand the counts to ``flush``, which runs one UPSERT per (dataset, day) that ADDS to the
stored counts, so several processes writing to the same database never lose each other's counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cityos.catalog import services as catalog
from cityos.core.db import Database, insert_or_add, new_id
from cityos.opendata.models import OpenUsageDaily

log = logging.getLogger(__name__)

KINDS = ("view", "download", "api")
COLUMN_OF_KIND = {"view": "views", "download": "downloads", "api": "api_calls"}
SHANGHAI_OFFSET_SECONDS = 8 * 3600  # Asia/Shanghai: UTC+8, no daylight saving since 1992
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_CREATE_LOCK = threading.Lock()

Key = tuple[str, int, str]  # resource id, Shanghai epoch day, kind


class UsageCounter:
    """Pending counts of one process, waiting for the next flush."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: dict[Key, int] = {}

    def add(self, key: Key, n: int) -> None:
        with self.lock:
            self.pending[key] = self.pending.get(key, 0) + n

    def take(self) -> dict[Key, int]:
        with self.lock:
            taken, self.pending = self.pending, {}
        return taken

    def put_back(self, counts: dict[Key, int]) -> None:
        for key, n in counts.items():
            self.add(key, n)


def shanghai_epoch_day(now: float | None = None) -> int:
    return int(((time.time() if now is None else now) + SHANGHAI_OFFSET_SECONDS) // 86400)


def today() -> date:
    return date.fromordinal(_EPOCH_ORDINAL + shanghai_epoch_day())


def _counter(app: FastAPI) -> UsageCounter:
    counter: UsageCounter | None = getattr(app.state, "opendata_usage", None)
    if counter is None:
        with _CREATE_LOCK:
            counter = getattr(app.state, "opendata_usage", None)
            if counter is None:
                counter = UsageCounter()
                app.state.opendata_usage = counter
    return counter


def count(app: FastAPI, resource_id: str, kind: str, n: int = 1) -> None:
    """Count ``n`` views / downloads / API calls of an open dataset (kind: view|download|api)."""
    if kind not in COLUMN_OF_KIND:
        raise ValueError(f"unknown usage kind {kind!r}")
    if n > 0:
        _counter(app).add((resource_id, shanghai_epoch_day(), kind), n)


def pending(app: FastAPI) -> int:
    """Counts not yet written (for tests and diagnostics)."""
    counter = _counter(app)
    with counter.lock:
        return sum(counter.pending.values())


# --------------------------------------------------------------------------- writing


def _rows(session: Session, counts: dict[Key, int]) -> list[dict[str, object]]:
    resources = catalog.get_resources_internal(session, sorted({k[0] for k in counts}))
    rows: dict[tuple[str, int], dict[str, object]] = {}
    for (resource_id, day, kind), n in counts.items():
        resource = resources.get(resource_id)
        if resource is None:
            continue  # deleted meanwhile: nothing to attribute the counts to
        row = rows.setdefault(
            (resource_id, day),
            {
                "id": new_id(),
                "resource_id": resource_id,
                "provider_id": resource.provider_id,
                "day": date.fromordinal(_EPOCH_ORDINAL + day),
                "views": 0,
                "downloads": 0,
                "api_calls": 0,
            },
        )
        column = COLUMN_OF_KIND[kind]
        row[column] = int(row[column]) + n  # type: ignore[call-overload]
    return list(rows.values())


def _upsert(session: Session, row: dict[str, object]) -> None:
    table: Any = OpenUsageDaily.__table__
    counters = ("views", "downloads", "api_calls")
    insert_or_add(
        session,
        table,
        {"resource_id": row["resource_id"], "day": row["day"]},
        {name: int(row[name]) for name in counters},  # type: ignore[call-overload]
        id=row["id"],
        provider_id=row["provider_id"],
    )


def add_counts(session: Session, counts: dict[Key, int]) -> int:
    """Add counts to the stored daily rows; returns the number of rows touched."""
    rows = sorted(_rows(session, counts), key=lambda r: (str(r["resource_id"]), str(r["day"])))
    for row in rows:  # in a fixed order: concurrent flushers never deadlock each other
        _upsert(session, row)
    return len(rows)


def flush_counter(db: Database, counter: UsageCounter) -> int:
    counts = counter.take()
    if not counts:
        return 0
    try:
        with db.session() as session:
            return add_counts(session, counts)
    except Exception:
        counter.put_back(counts)  # keep them for the next attempt
        raise


def flush(app: FastAPI) -> int:
    """Write this process's pending counts now (the background task does this periodically)."""
    return flush_counter(app.state.db, _counter(app))


def install(app: FastAPI) -> None:
    """Flush every CITYOS_USAGE_FLUSH_SECONDS (0: only at shutdown) and once at shutdown."""
    counter = _counter(app)
    interval = float(app.state.settings.usage_flush_seconds)
    holder: dict[str, asyncio.Task[None]] = {}

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(flush_counter, app.state.db, counter)
            except Exception:  # the counts stay pending; try again next time
                log.exception("writing open data usage counts failed")

    async def start() -> None:
        if interval > 0:
            holder["task"] = asyncio.create_task(loop(), name="cityos-opendata-usage")

    async def stop() -> None:
        task = holder.pop("task", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            flush_counter(app.state.db, counter)
        except Exception:
            log.exception("writing open data usage counts at shutdown failed")

    app.router.on_startup.append(start)
    app.router.on_shutdown.append(stop)


# --------------------------------------------------------------------------- reading


def window_start(days: int) -> date:
    """First day of a window of ``days`` days ending today (Asia/Shanghai)."""
    return today() - timedelta(days=max(days, 1) - 1)


def totals_for(session: Session, resource_id: str, days: int | None = None) -> dict[str, int]:
    """{"view": …, "download": …, "api": …} of one dataset (all time, or the last ``days``)."""
    t = OpenUsageDaily
    query = select(
        func.coalesce(func.sum(t.views), 0),
        func.coalesce(func.sum(t.downloads), 0),
        func.coalesce(func.sum(t.api_calls), 0),
    ).where(t.resource_id == resource_id)
    if days is not None:
        query = query.where(t.day >= window_start(days))
    views, downloads, api_calls = session.execute(query).one()
    return {"view": int(views), "download": int(downloads), "api": int(api_calls)}


@dataclass(frozen=True)
class DatasetUsage:
    resource_id: str
    code: str
    name: str
    provider_id: str
    provider_name: str
    view: int
    download: int
    api: int

    @property
    def total(self) -> int:
        return self.view + self.download + self.api


@dataclass(frozen=True)
class PublisherUsage:
    provider_id: str
    provider_name: str
    datasets: int
    view: int
    download: int
    api: int

    @property
    def total(self) -> int:
        return self.view + self.download + self.api


@dataclass(frozen=True)
class DayUsage:
    day: date
    view: int
    download: int
    api: int


ORDERS = ("total", "view", "download", "api")


def _scoped(query: Select[Any], provider_ids: Iterable[str] | None, days: int | None) -> Any:
    t = OpenUsageDaily
    if provider_ids is not None:
        query = query.where(t.provider_id.in_(sorted(provider_ids) or [""]))
    if days is not None:
        query = query.where(t.day >= window_start(days))
    return query


def _sums() -> tuple[Any, Any, Any]:
    t = OpenUsageDaily
    return (
        func.coalesce(func.sum(t.views), 0),
        func.coalesce(func.sum(t.downloads), 0),
        func.coalesce(func.sum(t.api_calls), 0),
    )


def _sorted(rows: list[Any], order: str) -> list[Any]:
    key = order if order in ORDERS else "total"
    return sorted(
        rows, key=lambda r: (-getattr(r, key), -r.total, getattr(r, "code", r.provider_id))
    )


def per_dataset(
    session: Session,
    *,
    provider_id: str | None = None,
    provider_ids: Iterable[str] | None = None,
    days: int | None = 30,
    order: str = "total",
) -> list[DatasetUsage]:
    """Usage per dataset over the last ``days`` days (None: all time), most used first;
    only the given provider(s) when asked."""
    from cityos.directory.services import organisation_names

    t = OpenUsageDaily
    scope = {provider_id} if provider_id else None
    if provider_ids is not None:
        scope = set(provider_ids) & scope if scope is not None else set(provider_ids)
    query = _scoped(select(t.resource_id, *_sums()).group_by(t.resource_id), scope, days)
    sums = {rid: (int(v), int(d), int(a)) for rid, v, d, a in session.execute(query)}
    resources = catalog.get_resources_internal(session, sorted(sums))
    names = organisation_names(session) if sums else {}
    rows = [
        DatasetUsage(
            resource_id=rid,
            code=resources[rid].code,
            name=resources[rid].name,
            provider_id=resources[rid].provider_id,
            provider_name=names.get(resources[rid].provider_id, ""),
            view=v,
            download=d,
            api=a,
        )
        for rid, (v, d, a) in sums.items()
        if rid in resources
    ]
    return _sorted(rows, order)


def per_publisher(
    session: Session, days: int | None = 30, *, provider_ids: Iterable[str] | None = None
) -> list[PublisherUsage]:
    """Usage per publishing department over the last ``days`` days (None: all time)."""
    from cityos.directory.services import organisation_names

    t = OpenUsageDaily
    query = _scoped(
        select(t.provider_id, func.count(func.distinct(t.resource_id)), *_sums()).group_by(
            t.provider_id
        ),
        provider_ids,
        days,
    )
    found = list(session.execute(query))
    names = organisation_names(session) if found else {}
    rows = [
        PublisherUsage(pid, names.get(pid, ""), int(n), int(v), int(d), int(a))
        for pid, n, v, d, a in found
    ]
    return _sorted(rows, "total")


def daily_series(
    session: Session,
    *,
    days: int = 30,
    provider_ids: Iterable[str] | None = None,
    resource_id: str | None = None,
) -> list[DayUsage]:
    """One entry per day of the window (days without use count zero), oldest first."""
    t = OpenUsageDaily
    query = _scoped(select(t.day, *_sums()).group_by(t.day), provider_ids, days)
    if resource_id is not None:
        query = query.where(t.resource_id == resource_id)
    found = {day: (int(v), int(d), int(a)) for day, v, d, a in session.execute(query)}
    start = window_start(days)
    series = []
    for offset in range(max(days, 1)):
        day = start + timedelta(days=offset)
        v, d, a = found.get(day, (0, 0, 0))
        series.append(DayUsage(day, v, d, a))
    return series
