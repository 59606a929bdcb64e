"""Quotas: per-minute bucket and daily quota (429 with Retry-After to midnight, Asia/Shanghai)."""

from __future__ import annotations

from datetime import datetime

import pytest

from cityos.core.i18n import DISPLAY_TZ
from cityos.opendata import quota
from tests.unit.opendata import open_world
from tests.unit.opendata.open_world import OpenWorld

ow = open_world.ow
# 2024-05-01 23:59:00 in Shanghai: 60 seconds to midnight
FROZEN = datetime(2024, 5, 1, 23, 59, 0, tzinfo=DISPLAY_TZ).timestamp()


def test_seconds_to_midnight_is_shanghai_time() -> None:
    assert quota.seconds_to_midnight(FROZEN) == 60
    assert quota.shanghai_day(FROZEN) == "2024-05-01"
    assert quota.shanghai_day(FROZEN + 61) == "2024-05-02"


def test_daily_quota_stops_a_key_until_midnight(
    ow: OpenWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(quota, "now_ts", lambda: FROZEN)
    key = ow.key("developer", daily_quota=3)
    for left in ("2", "1", "0"):
        answer = ow.records(ow.open_id, key=key)
        assert answer.status_code == 200
        assert answer.headers["X-RateLimit-Remaining"] == left
    stopped = ow.records(ow.open_id, key=key)
    assert stopped.status_code == 429
    assert stopped.json()["code"] == "quota_exceeded"
    assert stopped.headers["Retry-After"] == "60"
    assert stopped.headers["X-RateLimit-Remaining"] == "0"
    monkeypatch.setattr(quota, "now_ts", lambda: FROZEN + 120)  # the next day
    assert ow.records(ow.open_id, key=key).status_code == 200


def test_per_minute_limit_of_a_key(ow: OpenWorld) -> None:
    key = ow.key("developer")
    with ow.w.db.session() as session:
        from cityos.exchange.models import AuthorizationCode

        row = session.query(AuthorizationCode).filter_by(key_id=key[4:20]).one()
        row.rate_limit_per_minute = 2
    assert ow.records(ow.open_id, key=key).status_code == 200
    assert ow.records(ow.open_id, key=key).status_code == 200
    limited = ow.records(ow.open_id, key=key)
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1


def test_anonymous_limits_per_ip(ow: OpenWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = ow.w.app.state.settings
    monkeypatch.setattr(settings, "open_anon_per_minute", 2)
    assert ow.records(ow.open_id).status_code == 200
    assert ow.records(ow.open_id).status_code == 200
    assert ow.records(ow.open_id).status_code == 429


def test_anonymous_daily_quota(ow: OpenWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quota, "now_ts", lambda: FROZEN)
    monkeypatch.setattr(ow.w.app.state.settings, "open_anon_per_day", 1)
    assert ow.records(ow.open_id).status_code == 200
    stopped = ow.records(ow.open_id)
    assert stopped.status_code == 429
    assert stopped.json()["code"] == "quota_exceeded"
    assert stopped.headers["Retry-After"] == "60"


def test_a_keys_daily_quota_is_shared_by_processes_and_survives_a_restart(
    ow: OpenWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from cityos.app import create_app

    monkeypatch.setattr(quota, "now_ts", lambda: FROZEN)
    key = ow.key("developer", daily_quota=4)
    headers = {"Authorization": f"Bearer {key}"}
    path = f"/api/v1/open/datasets/{ow.code(ow.open_id)}/records"
    assert ow.records(ow.open_id, key=key).status_code == 200
    assert ow.records(ow.open_id, key=key).status_code == 200
    quota.quotas(ow.w.app).key_days.flush()  # what the background writer does every 2 s
    other = create_app(ow.w.app.state.settings, migrate=False)  # another worker, or a restart
    try:
        with TestClient(other) as second:
            assert second.get(path, headers=headers).headers["X-RateLimit-Remaining"] == "1"
            assert second.get(path, headers=headers).status_code == 200
            assert second.get(path, headers=headers).status_code == 429
        # its shutdown wrote its two calls: the first process sees four once it re-reads
        quota.quotas(ow.w.app).key_days.flush()
        stopped = ow.records(ow.open_id, key=key)
        assert stopped.status_code == 429 and stopped.json()["code"] == "quota_exceeded"
    finally:
        other.state.db.dispose()
