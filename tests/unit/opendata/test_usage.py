"""Usage counting: in memory, added to the daily rows by flushes, from several processes."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cityos.app import create_app
from cityos.config import Settings
from cityos.opendata import usage
from cityos.opendata.models import OpenUsageDaily
from tests.unit.opendata.test_applications_world import World, h5_world  # noqa: F401


def test_counts_wait_in_memory_until_flushed(world: World) -> None:
    rid = world.dataset("unconditional")
    usage.count(world.app, rid, "view")
    usage.count(world.app, rid, "view", 2)
    usage.count(world.app, rid, "download")
    usage.count(world.app, rid, "api", 5)
    assert usage.pending(world.app) == 9
    with world.db.session() as session:
        assert usage.totals_for(session, rid) == {"view": 0, "download": 0, "api": 0}
    assert usage.flush(world.app) == 1
    assert usage.pending(world.app) == 0
    with world.db.session() as session:
        assert usage.totals_for(session, rid) == {"view": 3, "download": 1, "api": 5}
        row = session.scalars(select(OpenUsageDaily)).one()
        assert row.provider_id == world.police
        assert row.day == usage.today()


def test_flushes_add_to_the_stored_counts(world: World) -> None:
    rid = world.dataset("unconditional")
    for _ in range(3):
        usage.count(world.app, rid, "api", 10)
        usage.flush(world.app)
    assert usage.flush(world.app) == 0  # nothing pending: no write
    with world.db.session() as session:
        assert usage.totals_for(session, rid)["api"] == 30
        assert len(session.scalars(select(OpenUsageDaily)).all()) == 1


def test_unknown_kind_is_refused(world: World) -> None:
    with pytest.raises(ValueError):
        usage.count(world.app, "x", "like")


def test_counts_of_a_vanished_dataset_are_dropped(world: World) -> None:
    usage.count(world.app, "0" * 32, "view")
    assert usage.flush(world.app) == 0
    with world.db.session() as session:
        assert session.scalars(select(OpenUsageDaily)).all() == []


def test_threads_count_without_losing_any(world: World) -> None:
    rid = world.dataset("unconditional")

    def hit() -> None:
        for _ in range(500):
            usage.count(world.app, rid, "api")

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    usage.flush(world.app)
    with world.db.session() as session:
        assert usage.totals_for(session, rid)["api"] == 4000


def test_two_apps_on_one_database_add_up(world: World, settings: Settings) -> None:
    rid = world.dataset("unconditional")
    other = create_app(settings, migrate=False)
    try:
        with TestClient(other):  # its shutdown writes what it counted
            usage.count(other, rid, "download", 4)
            usage.count(world.app, rid, "download", 3)
            usage.flush(world.app)
        assert usage.pending(other) == 0
        usage.count(other, rid, "view")
        usage.count(world.app, rid, "view")
        usage.flush(other)
        usage.flush(world.app)
    finally:
        other.state.db.dispose()
    with world.db.session() as session:
        assert usage.totals_for(session, rid) == {"view": 2, "download": 7, "api": 0}
        assert len(session.scalars(select(OpenUsageDaily)).all()) == 1


def test_a_failed_write_keeps_the_counts(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    rid = world.dataset("unconditional")
    usage.count(world.app, rid, "view", 2)

    def broken(*_args: object) -> int:
        raise RuntimeError("database away")

    monkeypatch.setattr(usage, "add_counts", broken)
    with pytest.raises(RuntimeError):
        usage.flush(world.app)
    assert usage.pending(world.app) == 2
    monkeypatch.undo()
    usage.flush(world.app)
    with world.db.session() as session:
        assert usage.totals_for(session, rid)["view"] == 2
