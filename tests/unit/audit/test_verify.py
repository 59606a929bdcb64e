"""`verify_log`: the fast path builds exactly the Python text, and every kind of tampering
(edit, deletion, reordering) is reported at the first record that does not match, whatever the
chunking, on both backends."""

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from cityos.audit import verify
from cityos.audit.leaf import leaf_text
from cityos.audit.log import sign_tree_head
from cityos.audit.merkle import SM3_HASHER
from cityos.audit.services import record
from cityos.audit.signing import signer_for
from cityos.audit.verify import Problem, Report, verify_log
from cityos.auth.principal import Principal
from cityos.crypto import sm3

from .tamper import attacker

TRICKY = [
    'quote " and \\ backslash',
    "new\nline\ttab\r\x01\x1f\x7f",
    "中文 数据 海口",
    "emoji 🏝 and \u2028 separator",
    "",
    "/slash/ & <tag> 'single'",
]


@pytest.fixture(params=["whole", "chunks"])
def chunking(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The log checked at once, and split in chunks of 4 leaves (as the parallel check splits a
    large log), so problems on and across chunk boundaries are covered."""
    if request.param == "chunks":
        monkeypatch.setattr(verify, "CHUNK", 4)
    return str(request.param)


def _log(app: FastAPI, n: int = 30, sign_at: tuple[int, ...] = (20,)) -> None:
    db = app.state.db
    for i in range(n):
        who = Principal(user_id=f"{i % 3:032x}", username=f"user{i % 3}", ip=f"10.0.0.{i}")
        with db.session() as session:
            record(session, who, "resource.update", "resource", f"r{i}", n=i, 字段="电话")
        if i + 1 in sign_at:
            assert sign_tree_head(db) is not None


def _verify(app: FastAPI) -> Report:
    engine = app.state.db.engine
    return verify_log(engine, [signer_for(engine).public_pem])


def _ids(app: FastAPI) -> dict[int, int]:
    with app.state.db.engine.connect() as conn:
        rows = conn.execute(text("SELECT leaf_index, id FROM audit_records")).all()
    return {int(leaf): int(rid) for leaf, rid in rows}


def _first(report: Report) -> Problem:
    assert not report.ok
    first = report.first
    assert first is not None
    return first


def _count_fallbacks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    slow: Callable[..., str | None] = verify.python_leaf_text

    def counted(raw: object, dialect: str, leaf_index: int) -> str | None:
        calls.append(leaf_index)
        return slow(raw, dialect, leaf_index)

    monkeypatch.setattr(verify, "python_leaf_text", counted)
    return calls


def test_database_builds_exactly_the_python_text(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = app.state.db
    for i, value in enumerate(TRICKY):
        who = Principal(user_id=f"{i:032x}", username=value, ip=None if i % 2 else value)
        with db.session() as session:
            record(session, who, value or "x", value, None if i == 2 else value, v=value, n=[i])
    with db.engine.connect() as conn:
        dialect = conn.dialect.name
        raw = verify._raw(conn)
        rows = [row for batch in verify.stream_leaves(raw, dialect) for row in batch]
        assert [row[0] for row in rows] == list(range(len(TRICKY)))
        for leaf_index, _id, built, stored in rows:
            python = verify.python_leaf_text(raw, dialect, leaf_index)
            assert python is not None
            assert bytes(built) == python.encode("utf-8"), leaf_index
            assert SM3_HASHER.leaf(bytes(built)) == bytes(stored)
    calls = _count_fallbacks(monkeypatch)
    assert _verify(app).ok
    assert calls == []  # no row needed the slow path


@pytest.mark.parametrize("leaf", [0, 3, 4, 17, 29])
def test_edit_is_named_at_its_leaf(app: FastAPI, chunking: str, leaf: int) -> None:
    _log(app)
    victim = _ids(app)[leaf]
    with attacker(app.state.db.engine) as conn:
        conn.execute(text("UPDATE audit_records SET detail = '{}' WHERE id = :i"), {"i": victim})
    report = _verify(app)
    first = _first(report)
    assert (first.kind, first.leaf_index, first.record_id) == ("edited", leaf, victim)
    assert [p.kind for p in report.problems] == ["edited"]


@pytest.mark.parametrize("leaf", [0, 3, 4, 17])
def test_deletion_is_named_at_its_leaf(app: FastAPI, chunking: str, leaf: int) -> None:
    _log(app)
    ids = _ids(app)
    with attacker(app.state.db.engine) as conn:
        conn.execute(text("DELETE FROM audit_records WHERE leaf_index = :i"), {"i": leaf})
    report = _verify(app)
    first = _first(report)
    assert (first.kind, first.leaf_index) == ("missing", leaf)
    assert first.params == {"last": leaf, "after_id": ids.get(leaf - 1)}
    assert [p.kind for p in report.problems] == ["missing"]


@pytest.mark.parametrize("leaf", [0, 3, 17, 25])
def test_swapped_neighbours_are_named_at_the_first(app: FastAPI, chunking: str, leaf: int) -> None:
    """Rows ``leaf`` and ``leaf + 1`` trade places (3/4 straddles a chunk boundary; 25 is after
    the last signed head)."""
    _log(app)
    ids = _ids(app)
    a, b = ids[leaf], ids[leaf + 1]
    with attacker(app.state.db.engine) as conn:
        update = text("UPDATE audit_records SET leaf_index = :to WHERE id = :id")
        conn.execute(update, {"to": -1, "id": a})
        conn.execute(update, {"to": leaf, "id": b})
        conn.execute(update, {"to": leaf + 1, "id": a})
    report = _verify(app)
    first = _first(report)
    assert (first.kind, first.leaf_index, first.record_id) == ("edited", leaf, b)
    found = {(p.kind, p.leaf_index, p.record_id) for p in report.problems}
    assert ("edited", leaf + 1, a) in found
    assert ("out_of_order", leaf + 1, a) in found


def _rehash(conn: object, leaf: int) -> None:
    """Recompute the stored leaf hash of the row now at ``leaf`` (a careful attacker)."""
    execute = conn.execute  # type: ignore[attr-defined]
    rid = execute(text("SELECT id FROM audit_records WHERE leaf_index = :i"), {"i": leaf}).scalar()
    dialect = conn.dialect.name  # type: ignore[attr-defined]
    raw = conn.connection.driver_connection  # type: ignore[attr-defined]
    rebuilt = verify.python_leaf_text(raw, dialect, leaf)
    assert rebuilt is not None
    execute(
        text("UPDATE audit_records SET leaf_hash = :h WHERE id = :i"),
        {"h": SM3_HASHER.leaf(rebuilt.encode()), "i": rid},
    )


def test_rehashed_swap_after_the_last_head_breaks_the_id_order(app: FastAPI, chunking: str) -> None:
    """Swapped *and* rehashed, past every signed head: the ids no longer grow with the leaf
    index, which shows at the second row of the pair (the first still has a larger id than its
    predecessor); the message names both records."""
    _log(app)
    ids = _ids(app)
    a, b = ids[23], ids[24]
    with attacker(app.state.db.engine) as conn:
        update = text("UPDATE audit_records SET leaf_index = :to WHERE id = :id")
        conn.execute(update, {"to": -1, "id": a})
        conn.execute(update, {"to": 23, "id": b})
        conn.execute(update, {"to": 24, "id": a})
        _rehash(conn, 23)
        _rehash(conn, 24)
    report = _verify(app)
    first = _first(report)
    assert (first.kind, first.leaf_index, first.record_id) == ("out_of_order", 24, a)
    assert first.params == {"after_id": b}
    assert [p.kind for p in report.problems] == ["out_of_order"]


def test_rehashed_swap_under_a_head_breaks_it(app: FastAPI, chunking: str) -> None:
    _log(app, sign_at=(8, 20))
    ids = _ids(app)
    a, b = ids[12], ids[13]
    with attacker(app.state.db.engine) as conn:
        update = text("UPDATE audit_records SET leaf_index = :to WHERE id = :id")
        conn.execute(update, {"to": -1, "id": a})
        conn.execute(update, {"to": 12, "id": b})
        conn.execute(update, {"to": 13, "id": a})
        _rehash(conn, 12)
        _rehash(conn, 13)
    report = _verify(app)
    kinds = [(p.kind, p.leaf_index, p.record_id) for p in report.problems]
    assert kinds[0] == ("out_of_order", 13, a)
    mismatch = [p for p in report.problems if p.kind == "head_mismatch"]
    assert len(mismatch) == 1 and mismatch[0].params == {"tree_size": 20, "first": 8, "last": 19}


def test_unreadable_values_are_named_not_a_crash(app: FastAPI, backend: str, chunking: str) -> None:
    """SQLite stores whatever it is given: a BLOB in a text column makes the database's JSON
    functions fail, and text that is not UTF-8 cannot be decoded. Both are named."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL columns are typed and its text is always valid UTF-8")
    _log(app)
    ids = _ids(app)
    with attacker(app.state.db.engine) as conn:
        conn.execute(text("UPDATE audit_records SET actor_name = x'00ff' WHERE leaf_index = 9"))
        conn.execute(
            text("UPDATE audit_records SET target_id = CAST(x'ff41' AS TEXT) WHERE leaf_index = 5")
        )
    report = _verify(app)
    found = [(p.kind, p.leaf_index, p.record_id) for p in report.problems]
    assert found == [("unreadable", 5, ids[5]), ("unreadable", 9, ids[9])]


def test_problems_are_identical_in_parallel(
    app: FastAPI, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker processes (chunks of 8, two workers) report what the in-process check reports."""
    if backend != "sqlite":
        pytest.skip("one spawn-based run is enough")
    monkeypatch.setattr(verify, "CHUNK", 8)
    _log(app, 40, sign_at=(16, 33))
    ids = _ids(app)
    with attacker(app.state.db.engine) as conn:
        conn.execute(text("UPDATE audit_records SET ip = '6.6.6.6' WHERE leaf_index = 9"))
        conn.execute(text("DELETE FROM audit_records WHERE leaf_index = 16"))
        update = text("UPDATE audit_records SET leaf_index = :to WHERE id = :id")
        conn.execute(update, {"to": -1, "id": ids[30]})
        conn.execute(update, {"to": 30, "id": ids[31]})
        conn.execute(update, {"to": 31, "id": ids[30]})
    engine = app.state.db.engine
    keys = [signer_for(engine).public_pem]
    alone, parallel = verify_log(engine, keys, workers=1), verify_log(engine, keys, workers=2)
    assert parallel.workers == 2
    found = [(p.kind, p.leaf_index, p.record_id, p.params) for p in alone.problems]
    assert found == [(p.kind, p.leaf_index, p.record_id, p.params) for p in parallel.problems]
    assert found[0] == ("edited", 9, ids[9], {})
    assert found[1] == ("missing", 16, None, {"last": 16, "after_id": ids[15]})
    assert ("edited", 30, ids[31], {}) in found


def test_leaf_text_format_is_pinned() -> None:
    """Existing logs must keep verifying: the leaf bytes of a known record never change."""
    built = leaf_text(
        7,
        "2026-01-02T03:04:05.000006+00:00",
        "a" * 32,
        "张三",
        None,
        "user.create",
        "user",
        "42",
        '{"k":"v"}',
        "10.0.0.1",
        6,
    )
    assert built == (
        '{"action":"user.create","actor_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","actor_name":"张三",'
        '"at":"2026-01-02T03:04:05.000006+00:00","detail":{"k":"v"},"id":7,"ip":"10.0.0.1",'
        '"leaf_index":6,"org_id":null,"target_id":"42","target_type":"user"}'
    )
    digest = "65e6aa71671b01c2035bd8eacd2fea5d5a892764a113e93d8bb40eb3b51a168d"
    assert SM3_HASHER.leaf(built.encode()).hex() == digest
    assert sm3(b"\x00" + built.encode()).hex() == digest  # pyca's SM3 agrees with hashlib's
