"""Wrapped data keys of the envelope encryption (see cityos.crypto.envelope)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, id_column, utcnow


class DataKey(Base):
    """One SM4 data key, stored only wrapped (SM4-GCM) under a master key."""

    __tablename__ = "crypto_data_keys"

    id: Mapped[str] = id_column()
    purpose: Mapped[str] = mapped_column(String(64), index=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    # fingerprint of the master key that wraps it (changes when the master key is rotated)
    master_key_version: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(default=None)
