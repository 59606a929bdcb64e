"""Token buckets: in-process, and shared through Redis (127.0.0.1:6379 when it is up)."""

from __future__ import annotations

import asyncio
import secrets
import socket

import pytest

from cityos.core.ratelimit import LocalLimiter, RedisLimiter, retry_after

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def test_local_bucket_refills_at_the_rate() -> None:
    limiter = LocalLimiter()
    assert [limiter.take_now("k", 2, now=0.0) for _ in range(2)] == [0.0, 0.0]
    wait = limiter.take_now("k", 2, now=0.0)
    assert wait == pytest.approx(30.0)  # 2 per minute: one token every 30 s
    assert retry_after(wait) == "30"
    assert limiter.take_now("k", 2, now=30.0) == 0.0
    assert limiter.take_now("other", 2, now=0.0) == 0.0


@pytest.mark.skipif(not _redis_up(), reason="Redis not running on 127.0.0.1:6379")
def test_redis_buckets_are_shared_by_every_process() -> None:
    key = "test-" + secrets.token_hex(6)

    async def run() -> list[float]:
        one, two = RedisLimiter(REDIS_URL), RedisLimiter(REDIS_URL)  # two "processes"
        try:
            return [await limiter.take(key, 3) for limiter in (one, two, one, two)]
        finally:
            one.close()
            two.close()

    waits = asyncio.run(run())
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] > 0


@pytest.mark.skipif(not _redis_up(), reason="Redis not running on 127.0.0.1:6379")
def test_two_app_instances_share_a_codes_limit_through_redis(settings: object) -> None:
    from datetime import timedelta

    from fastapi.testclient import TestClient

    from cityos.app import create_app
    from cityos.core.db import utcnow
    from cityos.exchange import services
    from cityos.sharing.grants import get_grant
    from tests.conftest import Actors
    from tests.unit.exchange.conftest import World

    shared = settings.model_copy(update={"redis_url": REDIS_URL})  # type: ignore[attr-defined]
    first, second = create_app(shared, migrate=False), create_app(shared, migrate=False)
    try:
        with TestClient(first) as c1, TestClient(second) as c2:
            actors = Actors(first)
            world = World(
                first, c1, actors, actors.org("公安"), actors.org("民政"), actors.org("卫健")
            )
            actors.user("officer_police", "data_officer", world.police)
            actors.user("officer_civil", "data_officer", world.civil)
            gid = world.grant(world.people())
            with first.state.db.session() as session:
                _row, code = services.issue_code(
                    session,
                    get_grant(session, gid),
                    None,
                    expires_at=utcnow() + timedelta(days=1),
                    rate_limit_per_minute=2,
                )
            headers = {"Authorization": f"Bearer {code}"}
            statuses = [
                c.get("/api/v1/exchange/records", headers=headers).status_code for c in (c1, c2, c1)
            ]
            assert statuses == [200, 200, 429]
    finally:
        first.state.db.dispose()
        second.state.db.dispose()
