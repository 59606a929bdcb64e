"""How many demands one IP address may propose per hour (CITYOS_DEMAND_PER_HOUR).

A sliding window of the last hour's submissions per address, kept in the process
(``app.state.demand_limit``). Only accepted submissions count, so a visitor who mistyped is not
locked out; the next one over the limit gets 429 with ``Retry-After``.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from fastapi import Request

from cityos.core.errors import ProblemError

WINDOW_SECONDS = 3600.0


class HourlyLimit:
    def __init__(self, per_hour: int) -> None:
        self.per_hour = per_hour
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, key: str, now: float | None = None) -> float:
        """0 when one more is allowed, else the seconds until the oldest hit leaves the window."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                return 0.0
            while hits and hits[0] <= now - WINDOW_SECONDS:
                hits.popleft()
            if len(hits) < self.per_hour:
                return 0.0
            return hits[0] + WINDOW_SECONDS - now

    def hit(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._hits.setdefault(key, deque()).append(now)


def limiter(request: Request) -> HourlyLimit:
    state = request.app.state
    limit = getattr(state, "demand_limit", None)
    if limit is None:
        limit = HourlyLimit(state.settings.demand_per_hour)
        state.demand_limit = limit
    return limit


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def check(request: Request) -> None:
    """429 ``rate_limited`` when this address proposed its hourly share of demands."""
    wait = limiter(request).wait(client_key(request))
    if wait > 0:
        raise ProblemError(
            429,
            "rate_limited",
            "Too many demands from your address: at most {n} per hour. Try again in {minutes} "
            "minutes.",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
            n=limiter(request).per_hour,
            minutes=max(1, math.ceil(wait / 60)),
        )


def record(request: Request) -> None:
    limiter(request).hit(client_key(request))
