"""Append-only, tamper-evident audit of every meaningful write.

Each record is a leaf of an RFC 6962 Merkle tree (SM3): ``leaf_index`` is its dense position
(0, 1, 2, … with no gap), ``leaf_hash`` = SM3(0x00 || canonical JSON of the record). Signed tree
heads (SM2) commit to the first ``tree_size`` leaves. See docs/audit.md.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, utcnow


def canonical_json(value: Any) -> str:
    """The one JSON text of a value: sorted keys, no spaces, UTF-8 characters unescaped."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


class AuditRecord(Base):
    """Never updated nor deleted: database triggers refuse it (see the initial migration)."""

    __tablename__ = "audit_records"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(32), index=True)
    actor_name: Mapped[str | None] = mapped_column(String(64))
    org_id: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # stored as canonical JSON text, so the stored bytes are exactly the hashed bytes
    detail_json: Mapped[str] = mapped_column("detail", Text, default="{}")
    ip: Mapped[str | None] = mapped_column(String(45))
    leaf_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))

    @property
    def detail(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.detail_json) if self.detail_json else {}
        return value

    @detail.setter
    def detail(self, value: dict[str, Any]) -> None:
        self.detail_json = canonical_json(value)


class AuditLogState(Base):
    """One row: the next leaf index. Its row lock serialises appends (see services.append)."""

    __tablename__ = "audit_log_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    next_leaf_index: Mapped[int] = mapped_column(BigInteger)


class AuditTreeHead(Base):
    """A signed tree head: SM2 signature over (timestamp, tree_size, root) as in RFC 6962 §3.5."""

    __tablename__ = "audit_tree_heads"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    tree_size: Mapped[int] = mapped_column(BigInteger, unique=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(64))
    # the compact range (one subtree hash per set bit of tree_size): the next head extends it
    frontier: Mapped[bytes] = mapped_column(LargeBinary)


class AuditSigningKey(Base):
    """Public keys that signed tree heads (informative: verification trusts key files only)."""

    __tablename__ = "audit_signing_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
