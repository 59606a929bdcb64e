"""Issuing, storing, rotating, suspending and revoking codes; what each refusal answers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, text, update

from cityos.core.db import utcnow
from cityos.core.errors import ProblemError
from cityos.exchange import codes, services
from cityos.exchange.models import AuthorizationCode
from cityos.sharing.grants import change_status, get_grant
from tests.unit.exchange.conftest import World, exchange_records


def _row(world: World, key_id: str) -> AuthorizationCode:
    with world.db.session() as session:
        return services.get_code(session, key_id)


def test_only_the_hmac_of_the_secret_is_stored(world: World) -> None:
    gid = world.grant(world.people())
    key_id, plaintext = world.code(gid)
    secret = codes.parse(plaintext).secret
    with world.db.engine.connect() as conn:
        row = conn.execute(
            text("SELECT * FROM exchange_codes WHERE key_id = :k"), {"k": key_id}
        ).one()
        dump = repr(tuple(row)) + repr(conn.execute(text("SELECT * FROM audit_records")).all())
    assert secret not in dump and plaintext not in dump
    with world.db.session() as session:
        pepper = codes.pepper(session)
    stored = _row(world, key_id).secret_hmac
    assert bytes(stored) == codes.secret_hmac(pepper, secret)
    assert len(stored) == 32


def test_the_code_is_shown_once_lists_never_carry_it(world: World) -> None:
    gid = world.grant(world.people())
    key_id, plaintext = world.code(gid)
    with world.db.session() as session:
        listed = [services.code_summary(c) for c in services.list_codes(session, gid)]
    assert [c["key_id"] for c in listed] == [key_id]
    assert "secret_hmac" not in listed[0]
    assert codes.parse(plaintext).secret not in repr(listed)


def test_expiry_is_mandatory_and_bounded_by_the_grant(world: World) -> None:
    gid = world.grant(world.people(), valid_until=date.today() + timedelta(days=10))
    with world.db.session() as session:
        grant = get_grant(session, gid)
        actor = world.principal("officer_civil")
        for when, code in (
            (utcnow() - timedelta(minutes=1), "expiry_past"),
            (utcnow() + timedelta(days=400), "expiry_too_far"),
            (utcnow() + timedelta(days=30), "expiry_after_grant"),
        ):
            with pytest.raises(ProblemError) as caught:
                services.issue_code(session, grant, actor, expires_at=when)
            assert caught.value.code == code


def test_only_the_consumers_officers_issue_codes(world: World) -> None:
    gid = world.grant(world.people())
    for username in ("staff_civil", "officer_police", "officer_health"):
        with pytest.raises(ProblemError) as caught:
            world.code(gid, username=username)
        assert caught.value.status == 403


def test_refusals(world: World) -> None:
    gid = world.grant(world.people())
    ok_id, ok = world.code(gid)
    assert world.call(ok, limit=1).status_code == 200

    other = codes.new_code()[0]  # well formed, unknown
    forged = ok[:20] + codes.new_code()[2]  # a known key id with another secret
    forged += codes.checksum(forged)
    tampered = ok[:-1] + ("0" if ok[-1] != "0" else "1")
    expectations = [
        (other, 401, "code_unknown"),
        (forged, 401, "code_unknown"),
        (tampered, 401, "code_invalid"),
        (None, 401, "code_missing"),
    ]
    for plaintext, status, code in expectations:
        r = world.call(plaintext)
        assert (r.status_code, r.json()["code"]) == (status, code), plaintext

    with world.db.session() as session:
        services.suspend_code(session, ok_id, world.principal("officer_police"), "异常调用")
    r = world.call(ok)
    assert (r.status_code, r.json()["code"]) == (403, "code_suspended")
    with world.db.session() as session:
        services.resume_code(session, ok_id, world.principal("officer_police"))
    assert world.call(ok).status_code == 200

    with world.db.session() as session:
        change_status(session, get_grant(session, gid), "suspend", None, "核查")
    r = world.call(ok)
    assert (r.status_code, r.json()["code"]) == (403, "grant_inactive")
    with world.db.session() as session:
        change_status(session, get_grant(session, gid), "resume", None)
    assert world.call(ok).status_code == 200

    with world.db.session() as session:
        services.revoke_code(session, ok_id, world.principal("officer_civil"), "系统下线")
    r = world.call(ok)
    assert (r.status_code, r.json()["code"]) == (401, "code_revoked")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_code(world: World) -> None:
    gid = world.grant(world.people())
    key_id, plaintext = world.code(gid)
    with world.db.session() as session:
        session.execute(
            update(AuthorizationCode)
            .where(AuthorizationCode.key_id == key_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    r = world.call(plaintext)
    assert (r.status_code, r.json()["code"]) == (401, "code_expired")


def test_rotation_keeps_the_old_code_during_the_overlap_only(world: World) -> None:
    gid = world.grant(world.people())
    old_id, old = world.code(gid)
    with world.db.session() as session:
        new_row, new = services.rotate_code(
            session, old_id, world.principal("officer_civil"), overlap=timedelta(hours=24)
        )
        new_id = new_row.key_id
    assert world.call(old).status_code == 200  # within the overlap
    assert world.call(new).status_code == 200
    with world.db.session() as session:
        row = services.get_code(session, old_id)
        assert row.rotated_to == new_id
        assert services.status_of(row) == "rotating"
        row.overlap_until = utcnow() - timedelta(seconds=1)  # the overlap is over
    r = world.call(old)
    assert (r.status_code, r.json()["code"]) == (401, "code_expired")
    assert world.call(new).status_code == 200
    with world.db.session() as session, pytest.raises(ProblemError):
        services.rotate_code(session, old_id, world.principal("officer_civil"))


def test_revocation_is_seen_at_once_by_another_process(world: World, settings: object) -> None:
    """Two app instances on the same database, as two worker processes would be."""
    from fastapi.testclient import TestClient

    from cityos.app import create_app

    gid = world.grant(world.people())
    key_id, plaintext = world.code(gid)
    headers = {"Authorization": f"Bearer {plaintext}"}
    second = create_app(settings, migrate=False)  # type: ignore[arg-type]
    try:
        with TestClient(second) as other:
            assert other.get("/api/v1/exchange/records", headers=headers).status_code == 200
            assert world.call(plaintext).status_code == 200
            with world.db.session() as session:  # revoked through the first instance
                services.revoke_code(session, key_id, world.principal("officer_police"), "泄露")
            r = other.get("/api/v1/exchange/records", headers=headers)
            assert (r.status_code, r.json()["code"]) == (401, "code_revoked")
    finally:
        second.state.db.dispose()


def test_rate_limit_answers_429_with_retry_after(world: World) -> None:
    gid = world.grant(world.people())
    _key_id, plaintext = world.code(gid, rate=3)
    answers = [world.call(plaintext, limit=1) for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert answers[3].status_code == 429
    assert answers[3].json()["code"] == "rate_limited"
    assert int(answers[3].headers["Retry-After"]) >= 1
    denied = exchange_records(world.app, "exchange.denied")
    assert denied[-1].detail["result"] == "rate_limited"


def test_last_use_is_written_in_batches(world: World) -> None:
    from cityos.exchange.access import runtime

    gid = world.grant(world.people())
    key_id, plaintext = world.code(gid)
    for _ in range(3):
        assert world.call(plaintext, limit=1).status_code == 200
    runtime(world.app).writer.flush_usage()
    row = _row(world, key_id)
    assert row.use_count == 3 and row.last_used_at is not None


def test_code_actions_are_audited_without_secrets(world: World) -> None:
    gid = world.grant(world.people())
    key_id, plaintext = world.code(gid)
    with world.db.session() as session:
        services.set_rate_limit(session, key_id, world.principal("officer_police"), 120)
        services.suspend_code(session, key_id, None, "事件规则")
    from cityos.audit.models import AuditRecord

    with world.db.session() as session:
        rows = list(
            session.scalars(
                select(AuditRecord)
                .where(AuditRecord.target_type == "code", AuditRecord.target_id == key_id)
                .order_by(AuditRecord.leaf_index)
            )
        )
    assert [r.action for r in rows] == [
        "exchange.code.issue",
        "exchange.code.rate_limit",
        "exchange.code.suspend",
    ]
    secret = codes.parse(plaintext).secret
    assert all(secret not in r.detail_json for r in rows)
