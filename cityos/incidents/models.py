"""Incidents found in the access audit, their timeline and evidence, and the detector's state.

An incident (安全事件) is opened by a detection rule (cityos.incidents.rules) over the
``exchange.*`` audit records, deduplicated by ``dedupe_key`` (rule + code or ip) while it is not
closed. Its evidence are audit record ids; its timeline (``incident_events``) says who did what
and when. ``incident_scan_state`` remembers the last audit leaf the detector read and
``incident_usage`` keeps per-minute usage of each authorization code (the baseline of spikes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, id_column, utcnow
from cityos.core.i18n import lazy

RULES = ("volume_spike", "offhours_export", "revoked_code_use", "expired_code_use", "failed_codes")
SEVERITIES = ("critical", "high", "medium", "low")
STATUSES = ("open", "contained", "closed")
EVENT_KINDS = ("detected", "evidence", "remedy", "notice", "report", "status", "note")
DOCUMENT_KINDS = ("notice", "report")

RULE_LABELS = {
    "volume_spike": lazy("Volume spike"),
    "offhours_export": lazy("Off-hours export"),
    "revoked_code_use": lazy("Use of a revoked code"),
    "expired_code_use": lazy("Use of an expired code"),
    "failed_codes": lazy("Many failed codes from one address"),
}
SEVERITY_LABELS = {
    "critical": lazy("Extremely serious"),
    "high": lazy("Serious"),
    "medium": lazy("Relatively serious"),
    "low": lazy("General"),
}
STATUS_LABELS = {
    "open": lazy("To handle"),
    "contained": lazy("Contained"),
    "closed": lazy("Closed"),
}
METRIC_LABELS = {
    "window_minutes": lazy("Window (minutes)"),
    "peak_rows": lazy("Most rows in a window"),
    "peak_calls": lazy("Most calls in a window"),
    "baseline_rows": lazy("Usual rows per window"),
    "baseline_calls": lazy("Usual calls per window"),
    "threshold_rows": lazy("Row threshold"),
    "threshold_calls": lazy("Call threshold"),
    "baseline_days": lazy("Days of the baseline"),
    "exports": lazy("Exports"),
    "rows": lazy("Rows returned"),
    "offhours": lazy("Off hours"),
    "attempts": lazy("Attempts"),
    "ips": lazy("IP addresses"),
    "peak_attempts": lazy("Most attempts in a window"),
    "threshold": lazy("Threshold"),
    "codes": lazy("Codes tried"),
}
EVENT_LABELS = {
    "detected": lazy("Detected"),
    "evidence": lazy("Evidence added"),
    "remedy": lazy("Remedy taken"),
    "notice": lazy("Notice to affected people"),
    "report": lazy("Report to the authority"),
    "status": lazy("Status changed"),
    "note": lazy("Note"),
}


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_status_severity", "status", "severity"),
        Index("ix_incidents_provider_status", "provider_org_id", "status"),
        Index("ix_incidents_dedupe_status", "dedupe_key", "status"),
    )

    id: Mapped[str] = id_column()
    number: Mapped[str] = mapped_column(String(32), unique=True)  # SJ-20261125-0001
    rule: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="open")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(String(200))  # zh-Hans, written at detection
    dedupe_key: Mapped[str] = mapped_column(String(120))  # rule:code:<key id> | rule:ip:<ip>
    code_key_id: Mapped[str | None] = mapped_column(String(16), default=None, index=True)
    grant_id: Mapped[str | None] = mapped_column(String(32), default=None)
    consumer_org_id: Mapped[str | None] = mapped_column(String(32), default=None)
    provider_org_id: Mapped[str | None] = mapped_column(String(32), default=None)
    resource_id: Mapped[str | None] = mapped_column(String(32), default=None)
    ip: Mapped[str | None] = mapped_column(String(45), default=None)
    # what the rule measured: peak window, threshold, baseline, attempts …
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    evidence_count: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int] = mapped_column(BigInteger, default=0)  # records returned in evidence
    first_seen_at: Mapped[datetime] = mapped_column()  # earliest evidence record
    last_seen_at: Mapped[datetime] = mapped_column()  # latest evidence record
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    # generated documents (zh-Hans markdown), editable until finalised
    notice_text: Mapped[str] = mapped_column(Text, default="")
    notice_state: Mapped[str] = mapped_column(String(10), default="")  # "" | draft | final
    report_text: Mapped[str] = mapped_column(Text, default="")
    report_state: Mapped[str] = mapped_column(String(10), default="")


class IncidentEvent(Base):
    """One line of an incident's timeline (append-only)."""

    __tablename__ = "incident_events"
    __table_args__ = (Index("ix_incident_events_incident_at", "incident_id", "at"),)

    id: Mapped[str] = id_column()
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(32), default=None)  # None: the detector
    actor_name: Mapped[str | None] = mapped_column(String(64), default=None)
    text: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class IncidentEvidence(Base):
    """An audit record that is evidence of an incident."""

    __tablename__ = "incident_evidence"

    incident_id: Mapped[str] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    audit_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf_index: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column()


class IncidentScanState(Base):
    """One row (id 1): the last audit leaf index the detector has read."""

    __tablename__ = "incident_scan_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_leaf_index: Mapped[int] = mapped_column(BigInteger, default=-1)
    last_run_at: Mapped[datetime | None] = mapped_column(default=None)
    runs: Mapped[int] = mapped_column(BigInteger, default=0)


class IncidentUsage(Base):
    """Rows and calls of an authorization code per minute (UTC): the baseline of volume spikes."""

    __tablename__ = "incident_usage"

    code_key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    minute: Mapped[datetime] = mapped_column(primary_key=True)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    calls: Mapped[int] = mapped_column(Integer, default=0)
