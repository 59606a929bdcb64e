"""Interface services (接口服务, Art. 13 ¶2): parameterised query services and proxy services.

A department registers a service over one of its catalogue resources for data that cannot be
handed over; the bureau confirms it; consumers call it with an authorization code whose grant
names the service (``Grant.service_id`` = ``InterfaceService.id``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, id_column, utcnow

KINDS = ("query", "proxy")
OPERATIONS = ("verify", "lookup")  # of query services
STATUSES = ("submitted", "confirmed", "rejected", "suspended")


class InterfaceService(Base):
    __tablename__ = "interface_services"
    __table_args__ = (Index("ix_interface_services_provider_status", "provider_org_id", "status"),)

    id: Mapped[str] = id_column()
    code: Mapped[str] = mapped_column(String(16), unique=True)  # FW-000001
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    provider_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    resource_id: Mapped[str] = mapped_column(ForeignKey("catalog_resources.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="query")
    # [{name, label, type, required, detector, pattern}] — name is an item field of the resource
    inputs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # [{name, label, type}] — verify: exactly [{"name": "match", "type": "boolean"}]
    outputs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # query: {"operation": "verify" | "lookup"}; proxy: {"base_url", "method", "path",
    # "timeout_ms", "retries", "retry_unsafe", "breaker_failures", "breaker_seconds"}
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="submitted", index=True)
    review_comment: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_by: Mapped[str | None] = mapped_column(String(32), default=None)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    status_changed_by: Mapped[str | None] = mapped_column(String(32), default=None)
    status_changed_at: Mapped[datetime | None] = mapped_column(default=None)
