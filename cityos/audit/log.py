"""Signed tree heads and proofs over the audit log.

``sign_tree_head(db)`` extends the previous head's compact range (its *frontier*, checked
against that head's signed root) with the records committed since, re-checking each new row
against its leaf hash, and signs the new root with SM2. It never signs a tree that does not
extend the previous head, and it does O(new records) work. The app calls it every
``CITYOS_AUDIT_STH_INTERVAL`` seconds; call it after bulk writes too (``cityos audit sign``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityos.audit.merkle import (
    CompactRange,
    TreeHead,
    consistency_ranges,
    inclusion_ranges,
    proof_from_stream,
)
from cityos.audit.models import AuditRecord, AuditSigningKey, AuditTreeHead
from cityos.audit.services import log_size
from cityos.audit.signing import AuditSigner, signer_for
from cityos.audit.verify import Scanner, python_leaf_text, stream_leaves
from cityos.core.errors import ProblemError, invalid, not_found

if TYPE_CHECKING:
    from cityos.core.db import Database

log = logging.getLogger(__name__)


class AuditIntegrityError(Exception):
    """The log does not extend its last signed head: it was tampered with."""


def latest_head(session: Session) -> AuditTreeHead | None:
    return session.scalars(
        select(AuditTreeHead).order_by(AuditTreeHead.tree_size.desc()).limit(1)
    ).first()


def sign_tree_head(db: Database, signer: AuditSigner | None = None) -> AuditTreeHead | None:
    """Sign a head over every committed record if the log grew; None when there is nothing new."""
    signer = signer or signer_for(db.engine)
    try:
        with db.session() as session:
            head = _sign(session, signer)
    except IntegrityError:
        log.info("another process signed this tree size first")
        return None
    if head is not None:
        log.info("signed audit tree head at size %d", head.tree_size)
    return head


def _sign(session: Session, signer: AuditSigner) -> AuditTreeHead | None:
    previous = latest_head(session)
    size = log_size(session)
    if size == 0 or (previous is not None and previous.tree_size >= size):
        return None
    if previous is None:
        compact = CompactRange()
        prev_id = None
    else:
        try:
            compact = CompactRange.from_frontier(previous.tree_size, previous.frontier)
        except ValueError:
            raise AuditIntegrityError("the last tree head's frontier is damaged") from None
        if compact.root() != previous.root_hash:
            raise AuditIntegrityError("the last tree head's frontier does not give its root")
        prev_id = session.execute(
            select(AuditRecord.id).where(AuditRecord.leaf_index == previous.tree_size - 1)
        ).scalar_one_or_none()
    connection = session.connection()
    dialect = connection.dialect.name
    raw = connection.connection.driver_connection
    scanner = Scanner(
        compact,
        compact.size,
        prev_id=prev_id,
        fallback=lambda i: python_leaf_text(raw, dialect, i),
    )
    for rows in stream_leaves(raw, dialect, compact.size, size):
        scanner.feed(rows)
    if scanner.problems:
        raise AuditIntegrityError(scanner.problems[0].line())
    if scanner.expected != size:
        raise AuditIntegrityError(f"leaves {scanner.expected} to {size - 1} are missing")
    head = TreeHead(size, scanner.compact.root(), int(time.time() * 1000))
    if session.get(AuditSigningKey, signer.key_id) is None:
        session.add(AuditSigningKey(key_id=signer.key_id, public_pem=signer.public_pem.decode()))
    row = AuditTreeHead(
        tree_size=head.tree_size,
        root_hash=head.root_hash,
        timestamp_ms=head.timestamp_ms,
        signature=signer.sign(head.signed_data()),
        key_id=signer.key_id,
        frontier=scanner.compact.frontier(),
    )
    session.add(row)
    session.flush()
    return row


def public_key_pem(session: Session, key_id: str) -> str | None:
    key = session.get(AuditSigningKey, key_id)
    return key.public_pem if key else None


# ----------------------------------------------------------------------------- proofs


def _leaf_stream(session: Session, end: int) -> Iterator[tuple[int, bytes]]:
    rows = session.execute(
        select(AuditRecord.leaf_index, AuditRecord.leaf_hash)
        .where(AuditRecord.leaf_index < end)
        .order_by(AuditRecord.leaf_index)
        .execution_options(yield_per=10_000)
    )
    for index, leaf_hash in rows:
        yield int(index), bytes(leaf_hash)


def _damaged() -> ProblemError:
    return ProblemError(
        409, "audit_log_damaged", "The audit log is damaged; run `cityos audit verify`."
    )


def inclusion_proof(session: Session, leaf_index: int, tree_size: int) -> tuple[bytes, list[bytes]]:
    """(leaf hash, audit path) of leaf ``leaf_index`` in the tree of the first ``tree_size``."""
    size = log_size(session)
    if not 0 < tree_size <= size:
        raise invalid("tree_size_out_of_range", "The tree size must be 1 to {size}.", size=size)
    if not 0 <= leaf_index < tree_size:
        raise invalid(
            "leaf_index_out_of_range", "The leaf index must be 0 to {last}.", last=tree_size - 1
        )
    leaf = session.execute(
        select(AuditRecord.leaf_hash).where(AuditRecord.leaf_index == leaf_index)
    ).scalar_one_or_none()
    if leaf is None:
        raise not_found("audit leaf", str(leaf_index))
    try:
        path = proof_from_stream(
            inclusion_ranges(leaf_index, tree_size), _leaf_stream(session, tree_size)
        )
    except ValueError:
        raise _damaged() from None
    return bytes(leaf), path


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[second]) of RFC 6962 §2.1.2."""
    size = log_size(session)
    if not 0 < second <= size:
        raise invalid("tree_size_out_of_range", "The tree size must be 1 to {size}.", size=size)
    if not 0 < first <= second:
        raise invalid(
            "first_out_of_range", "The first tree size must be 1 to {second}.", second=second
        )
    try:
        return proof_from_stream(consistency_ranges(first, second), _leaf_stream(session, second))
    except ValueError:
        raise _damaged() from None
