"""Authorization codes (接口授权码): ``cos_`` + key id + secret + checksum; only an HMAC is kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, id_column, utcnow

CODE_STATUSES = ("active", "suspended", "revoked")
CODE_PURPOSES = ("grant", "open_data")


class AuthorizationCode(Base):
    __tablename__ = "exchange_codes"
    __table_args__ = (Index("ix_exchange_codes_grant_status", "grant_id", "status"),)

    id: Mapped[str] = id_column()
    key_id: Mapped[str] = mapped_column(String(16), unique=True)  # public part, in the code
    secret_hmac: Mapped[bytes] = mapped_column(LargeBinary)  # HMAC-SM3(pepper, secret)
    purpose: Mapped[str] = mapped_column(String(16), default="grant")
    grant_id: Mapped[str | None] = mapped_column(ForeignKey("sharing_grants.id"), default=None)
    owner_org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), default=None)
    owner_user_id: Mapped[str | None] = mapped_column(String(32), default=None)
    label: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(32), default=None)
    expires_at: Mapped[datetime] = mapped_column()  # mandatory
    # rotation: the old code keeps working until overlap_until, then is refused
    rotated_to: Mapped[str | None] = mapped_column(String(16), default=None)
    overlap_until: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(32), default=None)
    revoke_reason: Mapped[str] = mapped_column(Text, default="")
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer, default=600)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    use_count: Mapped[int] = mapped_column(Integer, default=0)
    # open data keys (purpose "open_data"): a key scoped to one 有条件开放 dataset, calls per day
    scope_resource_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalog_resources.id"), default=None
    )
    daily_quota: Mapped[int] = mapped_column(Integer, default=10000, server_default="10000")


class ExchangeSecret(Base):
    """Secrets of the exchange kept envelope-encrypted (SM4-GCM under a data key wrapped by the
    master key): ``code_pepper`` keys the HMAC-SM3 of every authorization code's secret."""

    __tablename__ = "exchange_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)  # cityos.crypto.envelope blob
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
