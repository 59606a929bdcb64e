"""Quotas of the open data API: per minute (token bucket) and per day (Asia/Shanghai).

- anonymous callers: per client IP, ``CITYOS_OPEN_ANON_PER_MINUTE`` calls per minute and
  ``CITYOS_OPEN_ANON_PER_DAY`` per day;
- a key: its ``rate_limit_per_minute`` and its ``daily_quota``.

Per-minute buckets are cityos.core.ratelimit's (shared through Redis when ``CITYOS_REDIS_URL`` is
set). Day counters: Redis ``INCR`` + ``EXPIRE`` when Redis is configured; else, for keys, the
database (cityos/opendata/keydays.py: shared by the worker processes and kept across restarts)
and, for anonymous callers, a counter in this process (client IPs are not stored). Over quota → 429 ``quota_exceeded``
with ``Retry-After`` = the seconds to the next midnight in Asia/Shanghai.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI

from cityos.core.db import Database
from cityos.core.i18n import DISPLAY_TZ
from cityos.core.ratelimit import Limiter, LocalLimiter, RedisLimiter, make_limiter
from cityos.opendata.keydays import StoredDayCounter

log = logging.getLogger(__name__)
KEY_PREFIX = "key:"
FLUSH_SECONDS = 2.0


def now_ts() -> float:
    """The clock of the quotas (tests freeze it with monkeypatch)."""
    return time.time()


def shanghai_day(ts: float) -> str:
    return datetime.fromtimestamp(ts, DISPLAY_TZ).date().isoformat()


def seconds_to_midnight(ts: float) -> int:
    """Whole seconds (≥ 1) from ``ts`` to the next midnight in Asia/Shanghai."""
    local = datetime.fromtimestamp(ts, DISPLAY_TZ)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), DISPLAY_TZ)
    return max(1, math.ceil(midnight.timestamp() - ts))


@dataclass(frozen=True)
class DayCount:
    used: int  # calls today including this one
    limit: int

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


class LocalDayCounter:
    """Calls per (key, day) in this process; days other than today are dropped."""

    def __init__(self) -> None:
        self._day = ""
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def incr(self, key: str, day: str) -> int:
        with self._lock:
            if day != self._day:
                self._day, self._counts = day, {}
            used = self._counts.get(key, 0) + 1
            self._counts[key] = used
            return used

    def peek(self, key: str, day: str) -> int:
        with self._lock:
            return self._counts.get(key, 0) if day == self._day else 0


class Quotas:
    """The per-app quota state (buckets and day counters)."""

    def __init__(self, redis_url: str | None, db: Database) -> None:
        self.limiter: Limiter = make_limiter(redis_url)
        self.fallback = LocalLimiter()
        self.days = LocalDayCounter()
        self.key_days = StoredDayCounter(db)
        self.redis: RedisLimiter | None = (
            RedisLimiter(redis_url, prefix="cityos:open:") if redis_url else None
        )

    async def per_minute(self, key: str, per_minute: int) -> float:
        """0 when the call may go on, else the seconds to wait."""
        try:
            return await self.limiter.take("open:" + key, per_minute)
        except Exception:
            log.warning("rate limiter unavailable; using this process's buckets", exc_info=True)
            return await self.fallback.take("open:" + key, per_minute)

    async def per_day(self, key: str, limit: int, ts: float) -> DayCount:
        day = shanghai_day(ts)
        if self.redis is not None:
            try:
                return DayCount(await self._redis_incr(key, day, ts), limit)
            except Exception:
                log.warning("Redis unavailable; counting today's calls per process", exc_info=True)
        if key.startswith(KEY_PREFIX):
            key_id = key[len(KEY_PREFIX) :]
            if self.key_days.needs_read(key_id, day):
                await asyncio.to_thread(self.key_days.read, key_id, day)
            return DayCount(self.key_days.incr(key_id, day), limit)
        return DayCount(self.days.incr(key, day), limit)

    async def _redis_incr(self, key: str, day: str, ts: float) -> int:
        assert self.redis is not None
        conn: Any = await self.redis._conn()
        name = f"cityos:open:day:{day}:{key}"
        used = int(await conn.call("INCR", name))
        if used == 1:
            await conn.call("EXPIRE", name, str(seconds_to_midnight(ts) + 3600))
        return used

    def used_today(self, key: str, ts: float | None = None) -> int:
        """Calls of the key today as this process knows them (the developer centre shows it)."""
        day = shanghai_day(now_ts() if ts is None else ts)
        if key.startswith(KEY_PREFIX):
            key_id = key[len(KEY_PREFIX) :]
            if self.key_days.needs_read(key_id, day):
                self.key_days.read(key_id, day)
            return self.key_days.peek(key_id, day)
        return self.days.peek(key, day)

    def close(self) -> None:
        self.limiter.close()
        if self.redis is not None:
            self.redis.close()


_lock = threading.Lock()


def quotas(app: FastAPI) -> Quotas:
    found: Quotas | None = getattr(app.state, "open_quotas", None)
    if found is None:
        with _lock:
            found = getattr(app.state, "open_quotas", None)
            if found is None:
                found = Quotas(app.state.settings.redis_url, app.state.db)
                app.state.open_quotas = found
    return found


def install(app: FastAPI) -> None:
    """Write the keys' day counts every FLUSH_SECONDS and at shutdown."""
    holder: dict[str, asyncio.Task[None]] = {}

    async def loop() -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await asyncio.to_thread(quotas(app).key_days.flush)
            except Exception:  # the counts stay pending; try again next time
                log.exception("writing the API keys' day counts failed")

    async def start() -> None:
        holder["task"] = asyncio.create_task(loop(), name="cityos-opendata-key-days")

    async def stop() -> None:
        task = holder.pop("task", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        found: Quotas | None = getattr(app.state, "open_quotas", None)
        if found is not None:
            try:
                found.key_days.flush()
            except Exception:
                log.exception("writing the API keys' day counts at shutdown failed")

    app.router.on_startup.append(start)
    app.router.on_shutdown.append(stop)
