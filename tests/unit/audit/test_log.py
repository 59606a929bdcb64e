"""The audit log: dense leaf indexes, leaf hashes, signed tree heads and proofs, on both backends."""

import json
import threading
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text

from cityos.audit import merkle
from cityos.audit.leaf import at_iso, leaf_text
from cityos.audit.log import consistency_proof, inclusion_proof, latest_head, sign_tree_head
from cityos.audit.models import AuditRecord, AuditTreeHead
from cityos.audit.services import log_size, record, search
from cityos.audit.signing import signer_for
from cityos.audit.verify import verify_log
from cityos.auth.principal import Principal
from cityos.crypto import sm2_verify, sm3

ALICE = Principal(
    user_id="u" * 32, username="alice", org_roles={"o" * 32: frozenset({"admin"})}, ip="10.0.0.7"
)


def _write(app: FastAPI, n: int, action: str = "test.write") -> None:
    with app.state.db.session() as session:
        for i in range(n):
            record(session, ALICE, action, "thing", str(i), n=i, name="海口")


def _rows(app: FastAPI) -> list[AuditRecord]:
    with app.state.db.session() as session:
        return list(session.scalars(select(AuditRecord).order_by(AuditRecord.leaf_index)))


def test_leaf_text_is_canonical_json() -> None:
    tricky = ["plain", 'quote " and \\ backslash', "new\nline\ttab\x01", "中文 数据", "emoji 🏝", ""]
    for value in tricky:
        detail = {"z": value, "a": [1, 2.5, None, True], "m": {"y": value, "b": -0.0}}
        detail_json = json.dumps(detail, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        fields = {
            "id": 12,
            "at": "2026-01-02T03:04:05.000006+00:00",
            "actor_id": value,
            "actor_name": None,
            "org_id": value,
            "action": value,
            "target_type": value,
            "target_id": None,
            "detail": detail,
            "ip": value,
            "leaf_index": 11,
        }
        reference = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        built = leaf_text(
            12, fields["at"], value, None, value, value, value, None, detail_json, value, 11
        )
        assert built == reference


def test_record_lands_at_commit_with_dense_index_and_spec_hash(app: FastAPI) -> None:
    with app.state.db.session() as session:
        entry = record(session, ALICE, "user.create", "user", "42", username="bob", 名="张三")
        assert entry.id is None  # not written before the commit
    assert entry.leaf_index == 0 and entry.id is not None
    row = _rows(app)[0]
    assert row.detail == {"username": "bob", "名": "张三"}
    fields = {
        "id": row.id,
        "at": at_iso(row.at),
        "actor_id": "u" * 32,
        "actor_name": "alice",
        "org_id": "o" * 32,
        "action": "user.create",
        "target_type": "user",
        "target_id": "42",
        "detail": {"username": "bob", "名": "张三"},
        "ip": "10.0.0.7",
        "leaf_index": 0,
    }
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert row.leaf_hash == sm3(b"\x00" + canonical.encode())
    assert row.at.tzinfo is not None and at_iso(row.at).endswith("+00:00")


def test_rollbacks_and_savepoints_leave_no_gap(app: FastAPI) -> None:
    db = app.state.db
    _write(app, 2)
    with pytest.raises(RuntimeError), db.session() as session:
        record(session, ALICE, "lost", "thing")
        session.flush()
        raise RuntimeError("the business write fails")
    with db.session() as session:
        record(session, ALICE, "kept.before", "thing")
        with pytest.raises(RuntimeError), session.begin_nested():
            record(session, ALICE, "lost.in.savepoint", "thing")
            raise RuntimeError
        with session.begin_nested():
            record(session, ALICE, "kept.in.savepoint", "thing")
        record(session, ALICE, "kept.after", "thing")
    rows = _rows(app)
    assert [r.leaf_index for r in rows] == list(range(5))
    assert [r.action for r in rows][2:] == ["kept.before", "kept.in.savepoint", "kept.after"]
    ids = [r.id for r in rows]
    assert ids == sorted(ids) and len(set(ids)) == 5
    with db.session() as session:
        assert log_size(session) == 5
        state = session.execute(text("SELECT next_leaf_index FROM audit_log_state")).scalar_one()
        assert state == 5


def test_concurrent_writers_keep_the_log_dense_and_verifiable(app: FastAPI) -> None:
    db = app.state.db
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            for t in range(8):
                try:
                    with db.session() as session:
                        for i in range(3):
                            record(session, ALICE, f"w{w}", "thing", f"{t}.{i}")
                        if t % 3 == 2:
                            raise KeyError("rolled back on purpose")
                except KeyError:
                    pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def signer() -> None:
        try:
            for _ in range(6):
                sign_tree_head(db)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    threads.append(threading.Thread(target=signer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    sign_tree_head(db)
    rows = _rows(app)
    expected = 4 * (8 - 2) * 3  # t = 2 and 5 roll back
    assert [r.leaf_index for r in rows] == list(range(expected))
    ids = [r.id for r in rows]
    assert ids == sorted(ids)
    report = verify_log(db.engine, [signer_for(db.engine).public_pem])
    assert report.ok, [p.line() for p in report.problems]
    assert report.records == expected and report.latest_head_size == expected


def test_tree_heads_extend_each_other_and_are_signed(app: FastAPI) -> None:
    db = app.state.db
    assert sign_tree_head(db) is None  # empty log: nothing to sign
    _write(app, 5)
    first = sign_tree_head(db)
    assert first is not None and first.tree_size == 5
    assert sign_tree_head(db) is None  # no growth, no new head
    _write(app, 8)
    second = sign_tree_head(db)
    assert second is not None and second.tree_size == 13
    leaves = [r.leaf_hash for r in _rows(app)]
    assert first.root_hash == merkle.root(leaves[:5])
    assert second.root_hash == merkle.root(leaves)
    public = signer_for(db.engine).public_pem
    for head in (first, second):
        signed = merkle.TreeHead(head.tree_size, head.root_hash, head.timestamp_ms).signed_data()
        assert sm2_verify(public, signed, head.signature)
        assert head.key_id == signer_for(db.engine).key_id
    with db.session() as session:
        assert latest_head(session).tree_size == 13  # type: ignore[union-attr]
        proof = consistency_proof(session, 5, 13)
        assert merkle.verify_consistency(5, 13, first.root_hash, second.root_hash, proof)
        for index in range(13):
            leaf, path = inclusion_proof(session, index, 13)
            assert leaf == leaves[index]
            assert merkle.verify_inclusion(leaf, index, 13, path, second.root_hash)
        leaf, path = inclusion_proof(session, 4, 5)
        assert merkle.verify_inclusion(leaf, 4, 5, path, first.root_hash)


def test_tree_heads_are_append_only(app: FastAPI) -> None:
    from sqlalchemy.exc import DatabaseError

    _write(app, 2)
    assert sign_tree_head(app.state.db) is not None
    for statement in ("UPDATE audit_tree_heads SET tree_size = 1", "DELETE FROM audit_tree_heads"):
        with pytest.raises(DatabaseError), app.state.db.session() as session:
            session.execute(text(statement))
    with app.state.db.session() as session:
        assert session.scalars(select(AuditTreeHead)).one().tree_size == 2


def test_search_filters(app: FastAPI) -> None:
    _write(app, 3, "catalog.resource.create")
    with app.state.db.session() as session:
        record(session, None, "user.create", "user", "9")
    with app.state.db.session() as session:
        total, rows = search(session, action="catalog.*")
        assert total == 3 and [r.leaf_index for r in rows] == [2, 1, 0]
        assert search(session, actor="alice")[0] == 3
        assert search(session, actor="u" * 32)[0] == 3
        assert search(session, target_type="user", target_id="9")[0] == 1
        assert search(session, since=datetime(2000, 1, 1, tzinfo=UTC))[0] == 4
        assert search(session, until=datetime(2000, 1, 1, tzinfo=UTC))[0] == 0
        assert search(session, action="catalog_%")[0] == 0
        assert [r.leaf_index for r in search(session, limit=2, offset=1)[1]] == [2, 1]
