from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class IncidentOut(BaseModel):
    id: str
    number: str = Field(description="SJ-YYYYMMDD-NNNN (day of detection, Asia/Shanghai).")
    rule: str
    severity: str = Field(description="critical | high | medium | low")
    status: str = Field(description="open | contained | closed")
    status_reason: str
    title: str = Field(description="zh-Hans title written at detection.")
    code_key_id: str | None
    grant_id: str | None
    consumer_org_id: str | None
    provider_org_id: str | None
    resource_id: str | None
    ip: str | None
    metrics: dict[str, Any] = Field(description="What the rule measured (peak, threshold …).")
    evidence_count: int
    rows_total: int = Field(description="Records returned by the evidence calls.")
    first_seen_at: datetime
    last_seen_at: datetime
    detected_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    notice_state: str = Field(description="'' (not generated) | draft | final")
    report_state: str


class IncidentPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[IncidentOut]


class EventOut(BaseModel):
    at: datetime
    kind: str = Field(description="detected | evidence | remedy | notice | report | status | note")
    actor_id: str | None
    actor_name: str | None = Field(description="None: the detector.")
    text: str
    detail: dict[str, Any]


class EvidenceOut(BaseModel):
    id: int = Field(description="Audit record id (see /api/v1/audit/records).")
    leaf_index: int
    at: datetime
    action: str
    detail: dict[str, Any]


class IncidentDetail(IncidentOut):
    code_status: str | None
    grant_status: str | None
    grant_number: str | None
    timeline: list[EventOut]
    evidence: list[EvidenceOut] = Field(description="The first 200 evidence records.")


class RemedyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["suspend_code", "suspend_grant"]
    reason: str = Field(min_length=1, max_length=2000)


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "contained", "closed"]
    reason: str = Field(min_length=1, max_length=2000)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000)


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(default="", max_length=200_000, description="Edited text; empty: keep.")
    final: bool = Field(default=False, description="Finalise: the text no longer changes.")
    regenerate: bool = Field(
        default=False, description="Render the draft again from the incident's current facts."
    )


class DocumentOut(BaseModel):
    kind: Literal["notice", "report"]
    state: str = Field(description="draft | final")
    text: str = Field(description="zh-Hans Markdown.")


class SubjectOut(BaseModel):
    name: str
    id_number: str = Field(description="Masked (4601**********1234).")
    phone: str = Field(description="Masked (138****8000).")
    resource_id: str
    row_id: int


class SubjectsOut(BaseModel):
    count: int = Field(description="Distinct people (by ID number, else by record).")
    records: int = Field(description="Records returned by the evidence calls.")
    rows_listed: int
    rows_unknown: int = Field(description="Returned without row ids, or no longer stored.")
    items: list[SubjectOut]


class DetectOut(BaseModel):
    scanned: int = Field(description="Audit records read.")
    opened: list[str]
    updated: list[str]
    last_leaf_index: int
