from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, id_column, utcnow
from cityos.core.i18n import lazy

ORG_KINDS = ("government", "enterprise", "social")
ORG_KIND_LABELS = {
    "government": lazy("Government department"),
    "enterprise": lazy("Public-service enterprise"),
    "social": lazy("Social organisation"),
}


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str | None] = mapped_column(String(50))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="government")
    district_code: Mapped[str] = mapped_column(String(6), default="460100")
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    is_bureau: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
