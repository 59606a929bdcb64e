"""Audit records: ``record()`` in the caller's transaction, appended to the Merkle log on commit.

Leaf indexing under concurrency (see docs/audit.md):

* ``record()`` only queues the entry on the session. When the caller's transaction commits
  (``before_commit``), ``append()`` takes the single-row counter ``audit_log_state`` with an
  upsert (a row lock on PostgreSQL, the write lock on SQLite) that is held until COMMIT, reserves
  the next dense leaf indexes, pre-allocates the ids (``nextval`` on PostgreSQL, ``max(id) + 1``
  under the write lock on SQLite), computes the leaf hashes and INSERTs the rows. Nothing is
  updated afterwards, so the append-only triggers stay strict.
* Because the counter is locked from the reservation to the commit, audited transactions commit
  in leaf order, and a rolled-back transaction also rolls its reservation back: the committed
  records are always exactly the leaves 0 … n-1, with no hole, whatever the id sequence does
  (its gaps are allowed). A tree head over the first n leaves is therefore over a committed
  prefix that never changes. Ids grow with the leaf index (both are allocated under the lock).
* The lock is taken at commit time, not at ``record()``: it is held only for the INSERT and the
  COMMIT, and never while the transaction waits for another lock, so it cannot deadlock.
* A record made inside a savepoint that is rolled back is dropped with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, event, func, or_, select, text
from sqlalchemy.orm import Session, SessionTransaction

from cityos.audit.leaf import at_iso, leaf_text
from cityos.audit.merkle import SM3_HASHER
from cityos.audit.models import AuditRecord, canonical_json
from cityos.core.db import utcnow

if TYPE_CHECKING:
    from cityos.auth.principal import Principal
    from cityos.core.db import Database

_PENDING = "cityos_audit_pending"

_RESERVE = text(
    "INSERT INTO audit_log_state (id, next_leaf_index) VALUES (1, :n) "
    "ON CONFLICT (id) DO UPDATE SET next_leaf_index = audit_log_state.next_leaf_index + :n "
    "RETURNING next_leaf_index"
)


def record(
    session: Session,
    actor: Principal | None,
    action: str,
    target_type: str,
    target_id: str | None = None,
    **detail: Any,
) -> AuditRecord:
    """Add an audit record in the caller's transaction: it lands if and only if the write does.

    The record is written when the transaction commits (its ``id``, ``leaf_index`` and
    ``leaf_hash`` are set then); ``append()`` writes at once, for callers that need the id.
    """
    entry = AuditRecord(
        at=utcnow(),
        actor_id=actor.user_id if actor else None,
        actor_name=actor.username if actor else None,
        org_id=actor.primary_org_id if actor else None,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        detail_json=canonical_json(detail),
        ip=actor.ip if actor else None,
    )
    marker = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append((entry, marker))
    return entry


def append(session: Session, entries: list[AuditRecord]) -> None:
    """Give ``entries`` their leaf indexes, ids and leaf hashes and INSERT them now.

    Holds the log counter until the transaction ends: call it last (``record()`` does).
    """
    if not entries:
        return
    n = len(entries)
    first = int(session.execute(_RESERVE, {"n": n}).scalar_one()) - n
    ids = _allocate_ids(session, n)
    leaf = SM3_HASHER.leaf
    for offset, entry in enumerate(entries):
        entry.id = ids[offset]
        entry.leaf_index = first + offset
        entry.leaf_hash = leaf(leaf_bytes(entry))
        session.add(entry)
    session.flush()


def leaf_bytes(entry: AuditRecord) -> bytes:
    """The leaf input of a record (without the 0x00 prefix)."""
    return leaf_text(
        entry.id,
        at_iso(entry.at),
        entry.actor_id,
        entry.actor_name,
        entry.org_id,
        entry.action,
        entry.target_type,
        entry.target_id,
        entry.detail_json,
        entry.ip,
        entry.leaf_index,
    ).encode("utf-8")


def _allocate_ids(session: Session, n: int) -> list[int]:
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence('audit_records', 'id')) "
                "FROM generate_series(1, :n)"
            ),
            {"n": n},
        )
        return sorted(int(r[0]) for r in rows)
    # SQLite: the counter upsert made this the only writer until COMMIT
    top = session.execute(select(func.coalesce(func.max(AuditRecord.id), 0))).scalar_one()
    return [int(top) + 1 + i for i in range(n)]


# ----------------------------------------------------------------------------- session hooks


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint is released: its records wait for the outer commit
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.flush()  # the transaction's own writes first: never wait on a lock holding ours
        append(session, [entry for entry, _marker in pending])


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    kept = [(e, m) for e, m in pending if not _within(m, previous_transaction)]
    if kept:
        session.info[_PENDING] = kept
    else:
        session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_on_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended (commit, rollback, close)
        session.info.pop(_PENDING, None)


def _within(marker: SessionTransaction | None, transaction: SessionTransaction) -> bool:
    if marker is None or transaction.parent is None:
        return True
    node: SessionTransaction | None = marker
    while node is not None:
        if node is transaction:
            return True
        node = node.parent
    return False


# ----------------------------------------------------------------------------- reading


def search(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[AuditRecord]]:
    """Records, newest first. ``actor`` matches the actor's id or user name; ``action`` ending in
    ``.`` or ``*`` matches a prefix (``catalog.`` → every catalogue action)."""
    query = select(AuditRecord)
    if actor:
        query = query.where((AuditRecord.actor_id == actor) | (AuditRecord.actor_name == actor))
    if action:
        if action.endswith(("*", ".")):
            prefix = action.rstrip("*")
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(AuditRecord.action.like(escaped + "%", escape="\\"))
        else:
            query = query.where(AuditRecord.action == action)
    if target_type:
        query = query.where(AuditRecord.target_type == target_type)
    if target_id:
        query = query.where(AuditRecord.target_id == target_id)
    if since is not None:
        query = query.where(AuditRecord.at >= since)
    if until is not None:
        query = query.where(AuditRecord.at < until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(AuditRecord.leaf_index.desc()).limit(limit).offset(offset)
    )
    return total, list(rows)


def recent(
    session: Session,
    *,
    target_type: str | None = None,
    target_id: str | None = None,
    action: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[AuditRecord]]:
    return search(
        session,
        target_type=target_type,
        target_id=target_id,
        action=action,
        limit=limit,
        offset=offset,
    )


def log_size(session: Session) -> int:
    """How many records the committed log holds (the dense leaf indexes 0 … n-1)."""
    top = session.execute(select(func.max(AuditRecord.leaf_index))).scalar_one()
    return 0 if top is None else int(top) + 1


def activity_by_target(
    session: Session,
    *,
    action_prefix: str,
    target_type: str,
    target_ids: list[str],
    recent: int = 500,
) -> dict[str, tuple[int, datetime | None, list[dict[str, Any]]]]:
    """Per target: how many records whose action starts with ``action_prefix``, when the last
    was written, and the details of the newest ``recent`` (parsed here, so the query is the same
    on SQLite and PostgreSQL). Read-only; two queries whatever the number of targets."""
    ids = sorted({str(t) for t in target_ids})
    if not ids:
        return {}
    escaped = action_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    where = (
        AuditRecord.action.like(escaped + "%", escape="\\"),
        AuditRecord.target_type == target_type,
        AuditRecord.target_id.in_(ids),
    )
    out: dict[str, tuple[int, datetime | None, list[dict[str, Any]]]] = {}
    counts = session.execute(
        select(AuditRecord.target_id, func.count(), func.max(AuditRecord.at))
        .where(*where)
        .group_by(AuditRecord.target_id)
    )
    for target_id, count, last in counts:
        out[str(target_id)] = (int(count), last, [])
    ranked = (
        select(
            AuditRecord.target_id.label("target_id"),
            AuditRecord.action.label("action"),
            AuditRecord.detail_json.label("detail"),
            func.row_number()
            .over(partition_by=AuditRecord.target_id, order_by=AuditRecord.leaf_index.desc())
            .label("n"),
        )
        .where(*where)
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.target_id, ranked.c.action, ranked.c.detail).where(
            ranked.c.n <= max(0, recent)
        )
    )
    for target_id, action, detail_json in rows:
        detail: dict[str, Any] = json.loads(detail_json) if detail_json else {}
        detail.setdefault("_action", action)
        out[str(target_id)][2].append(detail)
    return out


# ----------------------------------------------------------------------------- the explorer


@dataclass
class RecordFilter:
    """What the audit explorer (/audit) filters on; every field is optional."""

    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None  # user id or user name
    org: str | None = None  # the actor's organisation, or an exchange call's consumer/provider
    action: str | None = None  # exact, or a prefix ending in "." or "*"
    target_type: str | None = None
    target_id: str | None = None
    result: str | None = None  # detail.result of exchange records ("ok", "code_revoked" …)
    q: str | None = None  # free text in the action, target, actor name or detail


def _json_pair(key: str, value: str) -> str:
    """How ``"key": value`` appears in a record's canonical detail JSON."""
    return canonical_json({key: value})[1:-1]


def filter_query(f: RecordFilter) -> Select[AuditRecord]:
    query = select(AuditRecord)
    if f.actor:
        query = query.where((AuditRecord.actor_id == f.actor) | (AuditRecord.actor_name == f.actor))
    if f.org:
        query = query.where(
            or_(
                AuditRecord.org_id == f.org,
                AuditRecord.detail_json.contains(
                    _json_pair("consumer_org_id", f.org), autoescape=True
                ),
                AuditRecord.detail_json.contains(
                    _json_pair("provider_org_id", f.org), autoescape=True
                ),
            )
        )
    if f.action:
        if f.action.endswith(("*", ".")):
            query = query.where(
                AuditRecord.action.startswith(f.action.rstrip("*"), autoescape=True)
            )
        else:
            query = query.where(AuditRecord.action == f.action)
    if f.target_type:
        query = query.where(AuditRecord.target_type == f.target_type)
    if f.target_id:
        query = query.where(AuditRecord.target_id == f.target_id)
    if f.result:
        query = query.where(
            AuditRecord.detail_json.contains(_json_pair("result", f.result), autoescape=True)
        )
    if f.q:
        for word in f.q.split()[:5]:
            query = query.where(
                or_(
                    AuditRecord.action.icontains(word, autoescape=True),
                    AuditRecord.target_id.icontains(word, autoescape=True),
                    AuditRecord.actor_name.icontains(word, autoescape=True),
                    AuditRecord.detail_json.icontains(word, autoescape=True),
                )
            )
    if f.since is not None:
        query = query.where(AuditRecord.at >= f.since)
    if f.until is not None:
        query = query.where(AuditRecord.at < f.until)
    return query


def explore(
    session: Session, f: RecordFilter, *, limit: int = 50, offset: int = 0
) -> tuple[int, list[AuditRecord]]:
    """Filtered records, newest first (by leaf index), and how many match."""
    query = filter_query(f)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(AuditRecord.leaf_index.desc()).limit(limit).offset(offset)
    )
    return int(total), list(rows)


def stream_records(db: Database, f: RecordFilter, batch: int = 2_000) -> Iterator[AuditRecord]:
    """Every filtered record in log order, read in batches (for CSV / JSON lines exports)."""
    with db.sessionmaker() as session:
        result = session.scalars(
            filter_query(f).order_by(AuditRecord.leaf_index).execution_options(yield_per=batch)
        )
        try:
            yield from result
        finally:
            result.close()


def get_record(session: Session, record_id: int) -> AuditRecord | None:
    return session.get(AuditRecord, record_id)


def leaf_matches(entry: AuditRecord) -> bool:
    """The row's contents still give its stored leaf hash."""
    return SM3_HASHER.leaf(leaf_bytes(entry)) == bytes(entry.leaf_hash)
