"""Each rule fires on a crafted audit sequence and stays quiet on a normal one (fixed now)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import select

from cityos.incidents.detection import detect
from cityos.incidents.models import Incident, IncidentEvent
from cityos.incidents.rules import Config
from tests.unit.incidents.conftest import NOW, access, every, write

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def _incidents(app: FastAPI) -> list[Incident]:
    with app.state.db.session() as session:
        return list(session.scalars(select(Incident).order_by(Incident.number)))


def _history(code: str, rows: int, days: int = 7) -> list[dict]:
    """A code used every hour for ``days`` days, ending an hour before NOW."""
    start = NOW - timedelta(days=days)
    return every(start, HOUR, days * 24 - 1, code=code, rows=rows, row_ids=[])


def test_volume_spike_fires_above_floor_and_baseline(app: FastAPI) -> None:
    history = _history("KSPIKE", 100)
    spike = every(NOW - 9 * MIN, MIN, 5, code="KSPIKE", rows=500)  # 2,500 rows in 10 minutes
    write(app, history + spike)
    report = detect(app.state.db, NOW)
    [incident] = _incidents(app)
    assert report.opened == [incident.number] and incident.number.startswith("SJ-20261125-")
    assert incident.rule == "volume_spike" and incident.severity == "high"
    assert incident.code_key_id == "KSPIKE" and incident.grant_id == "g1"
    assert incident.provider_org_id == "provider" and incident.consumer_org_id == "consumer"
    assert incident.evidence_count == 5 and incident.rows_total == 2500
    assert incident.metrics["peak_rows"] == 2500 and incident.metrics["threshold_rows"] == 1000
    assert "KSPIKE" in incident.title and "授权码" in incident.title


def test_normal_use_is_no_spike(app: FastAPI) -> None:
    write(app, _history("KCALM", 100) + every(NOW - 9 * MIN, MIN, 5, code="KCALM", rows=150))
    assert detect(app.state.db, NOW).opened == []
    assert _incidents(app) == []


def test_baseline_raises_the_threshold(app: FastAPI) -> None:
    """A code that always pulls 900 rows an hour: 3,000 in an hour is above the floor but not
    ten times its own average; 11,000 is (the baseline comes from the usage an earlier run
    counted)."""
    config = Config(spike_window=HOUR, baseline_days=1, spike_min_calls=1000)
    write(app, every(NOW - timedelta(days=1), HOUR, 23, code="KBUSY", rows=900, row_ids=[]))
    assert detect(app.state.db, NOW - 30 * MIN, config).opened == []
    write(app, every(NOW - 20 * MIN, 10 * MIN, 2, code="KBUSY", rows=1500))
    assert detect(app.state.db, NOW, config).opened == []
    write(app, every(NOW - 5 * MIN, MIN, 4, code="KBUSY", rows=2000))  # 11,000 in the hour
    assert len(detect(app.state.db, NOW, config).opened) == 1
    [incident] = _incidents(app)
    assert incident.rule == "volume_spike" and 8000 < incident.metrics["threshold_rows"] < 9000
    assert incident.evidence_count == 6  # the two 1,500-row calls are in the window too


def test_offhours_export_and_big_pulls(app: FastAPI) -> None:
    night = NOW + timedelta(hours=12, minutes=30)  # 23:30 in Haikou, a Wednesday
    saturday = NOW + timedelta(days=3)  # Saturday 28 November, 11:00
    write(
        app,
        [
            access("exchange.export", at=night, code="KNIGHT", rows=300, fmt="csv"),
            access("exchange.records", at=saturday, code="KWEEKEND", rows=5000),
            # normal: an export in office hours, a small pull at night, a big pull on a weekday
            access("exchange.export", at=NOW, code="KDAY", rows=300, fmt="csv"),
            access("exchange.records", at=night, code="KSMALL", rows=10),
            access("exchange.records", at=NOW, code="KBIGDAY", rows=5000),
        ],
    )
    detect(app.state.db, NOW + timedelta(days=4))
    found = {i.code_key_id for i in _incidents(app) if i.rule == "offhours_export"}
    assert found == {"KNIGHT", "KWEEKEND"}


def test_offhours_respects_the_working_day_calendar(app: FastAPI) -> None:
    from cityos.sharing.models import CalendarDay

    holiday = NOW.date() + timedelta(days=1)  # Thursday 26 November made a holiday
    with app.state.db.session() as session:
        session.add(CalendarDay(day=holiday, kind="holiday", name="测试假日"))
    write(app, [access("exchange.export", at=NOW + timedelta(days=1), code="KHOLIDAY")])
    detect(app.state.db, NOW + timedelta(days=2))
    assert [(i.rule, i.code_key_id) for i in _incidents(app)] == [("offhours_export", "KHOLIDAY")]


def test_revoked_and_expired_code_use(app: FastAPI) -> None:
    write(
        app,
        [
            access("exchange.denied", at=NOW - MIN, code="KREVOKED", result="code_revoked"),
            access("exchange.denied", at=NOW - MIN, code="KEXPIRED", result="code_expired"),
            access("exchange.denied", at=NOW - MIN, code="KBUSY", result="rate_limited"),
            access("exchange.denied", at=NOW - MIN, code="KSTOPPED", result="grant_inactive"),
        ],
    )
    detect(app.state.db, NOW)
    found = {(i.rule, i.code_key_id, i.severity) for i in _incidents(app)}
    assert found == {
        ("revoked_code_use", "KREVOKED", "high"),
        ("expired_code_use", "KEXPIRED", "low"),
    }


def test_failed_codes_from_one_ip(app: FastAPI) -> None:
    burst = [
        access(
            "exchange.denied",
            at=NOW - 4 * MIN + i * timedelta(seconds=10),
            code=f"KX{i}",
            result="code_unknown" if i % 2 else "code_invalid",
            ip="203.0.113.9",
        )
        for i in range(20)
    ]
    almost = [
        access(
            "exchange.denied",
            at=NOW - 4 * MIN + i * timedelta(seconds=10),
            code=None,
            result="code_invalid",
            ip="203.0.113.10",
        )
        for i in range(19)
    ]
    slow = [
        access(
            "exchange.denied",
            at=NOW - 40 * MIN + i * 2 * MIN,
            code="KY",
            result="code_unknown",
            ip="203.0.113.11",
        )
        for i in range(20)
    ]
    write(app, burst + almost + slow)
    detect(app.state.db, NOW)
    [incident] = _incidents(app)
    assert incident.rule == "failed_codes" and incident.ip == "203.0.113.9"
    assert incident.evidence_count == 20 and incident.metrics["peak_attempts"] == 20
    assert incident.code_key_id is None and "203.0.113.9" in incident.title


def test_a_window_across_two_runs(app: FastAPI) -> None:
    """Records scanned by an earlier run still count in a later run's window."""
    first = [
        access(
            "exchange.denied", at=NOW - 3 * MIN, code=None, result="code_unknown", ip="198.51.100.1"
        )
        for _ in range(15)
    ]
    write(app, first)
    assert detect(app.state.db, NOW - 2 * MIN).opened == []
    write(
        app,
        [
            access(
                "exchange.denied", at=NOW - MIN, code=None, result="code_unknown", ip="198.51.100.1"
            )
            for _ in range(5)
        ],
    )
    assert len(detect(app.state.db, NOW).opened) == 1
    assert _incidents(app)[0].evidence_count == 20


def test_dedupe_one_open_incident_per_rule_and_code(app: FastAPI) -> None:
    from cityos.auth.principal import Principal
    from cityos.incidents import services

    def revoked(at_minutes: int) -> dict:
        return access(
            "exchange.denied", at=NOW + at_minutes * MIN, code="KLEAK", result="code_revoked"
        )

    write(app, [revoked(0), revoked(1)])
    assert len(detect(app.state.db, NOW + 2 * MIN).opened) == 1
    again = detect(app.state.db, NOW + 2 * MIN)  # reads only the incident's own audit record
    assert again.scanned == 1 and again.opened == again.updated == []
    write(app, [revoked(3)])
    report = detect(app.state.db, NOW + 4 * MIN)
    [incident] = _incidents(app)
    assert report.opened == [] and report.updated == [incident.number]
    assert incident.evidence_count == 3 and incident.metrics["attempts"] == 3
    with app.state.db.session() as session:
        kinds = [
            e.kind
            for e in session.scalars(
                select(IncidentEvent)
                .where(IncidentEvent.incident_id == incident.id)
                .order_by(IncidentEvent.at)
            )
        ]
    assert kinds == ["detected", "evidence"]
    # once closed, the next attempt opens a new incident
    reviewer = Principal(user_id="r" * 32, username="rev", roles=frozenset({"reviewer"}))
    with app.state.db.session() as session:
        services.change_status(
            session, session.get(Incident, incident.id), "closed", reviewer, "误报"
        )
    write(app, [revoked(5)])
    assert len(detect(app.state.db, NOW + 6 * MIN).opened) == 1
    assert [i.status for i in _incidents(app)] == ["closed", "open"]


def test_overlapping_runs_do_not_double_count(app: FastAPI) -> None:
    """A run whose chunk was scanned by another run meanwhile starts again after it."""
    from cityos.incidents import detection

    write(app, [access("exchange.denied", at=NOW, code="KRACE", result="code_revoked")])
    original = detection._evaluate
    calls = []

    def racing(session, new, start, config):  # type: ignore[no-untyped-def]
        if not calls:
            calls.append(1)
            detect(app.state.db, NOW)  # another run finishes first
        return original(session, new, start, config)

    detection._evaluate = racing  # type: ignore[assignment]
    try:
        detect(app.state.db, NOW)
    finally:
        detection._evaluate = original  # type: ignore[assignment]
    [incident] = _incidents(app)
    assert incident.evidence_count == 1
