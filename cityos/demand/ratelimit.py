"""How many demands one IP address may propose per hour (CITYOS_DEMAND_PER_HOUR).

A sliding window of the last hour's submissions per address, kept in the process
(``app.state.demand_limit``). Only accepted submissions count, so a visitor who mistyped is not
locked out; the next one over the limit gets 429 with ``Retry-After``.
"""

from __future__ import annotations

import math

from fastapi import Request

from cityos.core.errors import ProblemError
from cityos.core.ratelimit import SlidingWindow


def limiter(request: Request) -> SlidingWindow:
    state = request.app.state
    limit = getattr(state, "demand_limit", None)
    if limit is None:
        limit = SlidingWindow(state.settings.demand_per_hour)
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
            n=limiter(request).limit,
            minutes=max(1, math.ceil(wait / 60)),
        )


def record(request: Request) -> None:
    limiter(request).hit(client_key(request))
