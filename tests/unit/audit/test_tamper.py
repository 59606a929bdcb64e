"""Tampering with the audit table is caught, at the right record, on both backends."""

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from cityos.audit import verify
from cityos.audit.leaf import leaf_text
from cityos.audit.log import AuditIntegrityError, sign_tree_head
from cityos.audit.merkle import SM3_HASHER
from cityos.audit.services import record
from cityos.audit.signing import signer_for
from cityos.audit.verify import Report, verify_log
from cityos.auth.principal import Principal
from cityos.crypto import sm2_generate_keypair

from .tamper import attacker

BOB = Principal(user_id="b" * 32, username="bob", ip="127.0.0.1")


@pytest.fixture(autouse=True, params=["whole", "chunks"])
def chunking(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every check runs on the whole log at once and split in chunks of 4 leaves (as the
    parallel verification splits a large log, here in-process)."""
    if request.param == "chunks":
        monkeypatch.setattr(verify, "CHUNK", 4)
    return str(request.param)


def _log(app: FastAPI, n: int = 30, sign_at: tuple[int, ...] = (10, 20)) -> None:
    db = app.state.db
    for i in range(n):
        with db.session() as session:
            record(session, BOB, "resource.update", "resource", f"r{i}", field="电话", n=i)
        if i + 1 in sign_at:
            assert sign_tree_head(db) is not None


def _verify(app: FastAPI) -> Report:
    engine = app.state.db.engine
    return verify_log(engine, [signer_for(engine).public_pem])


def _id_at(app: FastAPI, leaf_index: int) -> int:
    with app.state.db.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT id FROM audit_records WHERE leaf_index = :i"), {"i": leaf_index}
            ).scalar_one()
        )


def test_intact_log_verifies(app: FastAPI) -> None:
    _log(app)
    report = _verify(app)
    assert report.ok and report.records == 30 and report.heads == 2
    assert report.latest_head_size == 20 and report.counter == 30


def test_edited_row_is_named(app: FastAPI) -> None:
    _log(app)
    victim = _id_at(app, 7)
    with attacker(app.state.db.engine) as conn:
        conn.execute(
            text("UPDATE audit_records SET target_id = 'forged' WHERE id = :i"), {"i": victim}
        )
    report = _verify(app)
    assert not report.ok
    first = report.first
    assert first is not None and first.kind == "edited"
    assert (first.record_id, first.leaf_index) == (victim, 7)
    assert len([p for p in report.problems if p.kind == "edited"]) == 1


def test_edited_detail_after_the_last_head_is_named(app: FastAPI) -> None:
    _log(app)
    victim = _id_at(app, 25)  # not yet covered by a signed head: the leaf hash still tells
    with attacker(app.state.db.engine) as conn:
        conn.execute(
            text("UPDATE audit_records SET detail = :d WHERE id = :i"),
            {"d": '{"field":"电话","n":0}', "i": victim},
        )
    first = _verify(app).first
    assert first is not None and (first.kind, first.record_id) == ("edited", victim)


def test_edited_row_with_rewritten_leaf_hash_breaks_the_signed_head(app: FastAPI) -> None:
    _log(app)
    engine = app.state.db.engine
    with attacker(engine) as conn:
        row = conn.execute(
            text(
                "SELECT id, at, actor_id, actor_name, org_id, action, target_type, target_id, "
                "detail, ip FROM audit_records WHERE leaf_index = 13"
            )
        ).one()
        from cityos.audit.leaf import at_iso

        at = row.at if isinstance(row.at, str) else at_iso(row.at)
        at = at.replace(" ", "T") + ("+00:00" if "+" not in at else "")
        forged = leaf_text(
            row.id,
            at,
            row.actor_id,
            row.actor_name,
            row.org_id,
            "forged",
            row.target_type,
            row.target_id,
            row.detail,
            row.ip,
            13,
        )
        conn.execute(
            text("UPDATE audit_records SET action = 'forged', leaf_hash = :h WHERE id = :i"),
            {"h": SM3_HASHER.leaf(forged.encode()), "i": row.id},
        )
    report = _verify(app)
    kinds = [p.kind for p in report.problems]
    assert kinds == ["head_mismatch"], [p.line() for p in report.problems]
    problem = report.problems[0]
    assert problem.params["tree_size"] == 20 and problem.params["first"] == 10  # leaves 10..19


def test_deleted_row_is_a_hole_in_the_leaf_indexes(app: FastAPI) -> None:
    _log(app)
    before = _id_at(app, 11)
    with attacker(app.state.db.engine) as conn:
        conn.execute(text("DELETE FROM audit_records WHERE leaf_index = 12"))
    report = _verify(app)
    first = report.first
    assert first is not None and first.kind == "missing"
    assert first.leaf_index == 12 and first.params == {"last": 12, "after_id": before}


def test_deleted_tail_is_caught_by_the_heads_and_the_counter(app: FastAPI) -> None:
    _log(app)
    with attacker(app.state.db.engine) as conn:
        conn.execute(text("DELETE FROM audit_records WHERE leaf_index >= 25"))
    first = _verify(app).first
    assert first is not None and first.kind == "truncated_counter" and first.leaf_index == 25
    with attacker(app.state.db.engine) as conn:
        conn.execute(text("DELETE FROM audit_records WHERE leaf_index >= 15"))
    first = _verify(app).first
    assert first is not None and first.kind == "truncated_head" and first.leaf_index == 15
    assert first.params["covered"] == 20


def test_reordered_rows_are_caught_at_the_first_moved_record(app: FastAPI) -> None:
    _log(app)
    a, b = _id_at(app, 4), _id_at(app, 9)
    with attacker(app.state.db.engine) as conn:
        conn.execute(text("UPDATE audit_records SET leaf_index = -1 WHERE id = :a"), {"a": a})
        conn.execute(text("UPDATE audit_records SET leaf_index = 4 WHERE id = :b"), {"b": b})
        conn.execute(text("UPDATE audit_records SET leaf_index = 9 WHERE id = :a"), {"a": a})
    report = _verify(app)
    first = report.first
    assert first is not None and (first.kind, first.record_id, first.leaf_index) == ("edited", b, 4)
    assert {"out_of_order"} <= {p.kind for p in report.problems}


def test_forged_tree_head_is_caught(app: FastAPI) -> None:
    _log(app)
    with attacker(app.state.db.engine) as conn:
        conn.execute(text("UPDATE audit_tree_heads SET tree_size = 21 WHERE tree_size = 20"))
    kinds = {p.kind for p in _verify(app).problems}
    assert "head_signature" in kinds and "head_mismatch" in kinds


def test_heads_need_a_trusted_key(app: FastAPI) -> None:
    _log(app)
    report = verify_log(app.state.db.engine, [sm2_generate_keypair().public_pem])
    assert {p.kind for p in report.problems} == {"head_unknown_key"}


def test_signer_refuses_to_extend_a_tampered_log(app: FastAPI) -> None:
    _log(app, 12, sign_at=(10,))
    with attacker(app.state.db.engine) as conn:
        conn.execute(text("UPDATE audit_records SET action = 'x' WHERE leaf_index = 11"))
    with pytest.raises(AuditIntegrityError, match="edited"):
        sign_tree_head(app.state.db)


def test_whole_chunk_deleted(app: FastAPI, chunking: str) -> None:
    _log(app)
    with attacker(app.state.db.engine) as conn:
        conn.execute(text("DELETE FROM audit_records WHERE leaf_index >= 8 AND leaf_index < 16"))
    report = _verify(app)
    first = report.first
    assert first is not None and first.kind == "missing" and first.leaf_index == 8
    assert first.params["last"] == 15 and first.params["after_id"] == _id_at(app, 7)
    assert [p.kind for p in report.problems] == ["missing"]


def test_parallel_workers_agree(
    app: FastAPI, backend: str, chunking: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend != "sqlite" or chunking != "whole":
        pytest.skip("one spawn-based run is enough")
    monkeypatch.setattr(verify, "CHUNK", 8)
    _log(app, 40, sign_at=(10, 16, 33))
    engine = app.state.db.engine
    keys = [signer_for(engine).public_pem]
    report = verify_log(engine, keys, workers=2)
    assert report.ok and report.workers == 2 and report.records == 40
    victim = _id_at(app, 21)
    with attacker(engine) as conn:
        conn.execute(text("UPDATE audit_records SET ip = '6.6.6.6' WHERE id = :i"), {"i": victim})
    report = verify_log(engine, keys, workers=2)
    assert [(p.kind, p.record_id) for p in report.problems] == [("edited", victim)]


def test_first_record_deleted(app: FastAPI, chunking: str) -> None:
    from cityos.core.i18n import set_locale

    _log(app, 6, sign_at=(6,))
    with attacker(app.state.db.engine) as conn:
        conn.execute(text("DELETE FROM audit_records WHERE leaf_index = 0"))
    first = _verify(app).first
    assert first is not None and (first.kind, first.leaf_index) == ("missing", 0)
    token = set_locale("en")
    try:
        assert "at the start of the log" in first.message
    finally:
        from cityos.core.i18n import _current_locale

        _current_locale.reset(token)
