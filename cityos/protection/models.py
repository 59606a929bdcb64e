"""The bureau's masking policy for sharing consumers: one method per grade."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, utcnow


class GradePolicy(Base):
    """How items of a grade reach a sharing consumer (keep / mask / pseudonymize / generalize /
    suppress). A grade without a row uses ``cityos.protection.masking.DEFAULT_BY_GRADE``."""

    __tablename__ = "protection_grade_policies"

    grade: Mapped[str] = mapped_column(String(10), primary_key=True)
    method: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(32), default=None)
