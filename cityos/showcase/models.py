"""Apps, analyses, visualisations and research built on open data (应用展示, Art. 16).

A signed-in user submits an entry linked to the OPEN datasets it uses; the bureau approves or
rejects it; approved entries are public and listed on each dataset's page.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, id_column, utcnow

KINDS = ("app", "analysis", "visualisation", "research")
STATUSES = ("submitted", "approved", "rejected", "withdrawn")


class ShowcaseApp(Base):
    __tablename__ = "showcase_apps"
    __table_args__ = (Index("ix_showcase_apps_status_reviewed", "status", "reviewed_at"),)

    id: Mapped[str] = id_column()
    title: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16), default="app")
    summary: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(500))
    author: Mapped[str] = mapped_column(String(120), default="")  # organisation or author shown
    submitter_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    submitter_name: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[str] = mapped_column(String(16), default="submitted", index=True)
    review_reason: Mapped[str] = mapped_column(Text, default="")
    reviewed_by: Mapped[str | None] = mapped_column(String(32), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ShowcaseDataset(Base):
    """An open dataset (catalogue resource) an entry uses."""

    __tablename__ = "showcase_datasets"

    app_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("showcase_apps.id", ondelete="CASCADE"), primary_key=True
    )
    resource_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("catalog_resources.id"), primary_key=True, index=True
    )
