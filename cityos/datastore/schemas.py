"""Request and response bodies of the datastore API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cityos.core.i18n import DISPLAY_TZ, gettext
from cityos.datastore.models import LoadBatch, RejectedRow


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with the display offset (+08:00), as the rest of the API."""
    return value.astimezone(DISPLAY_TZ).isoformat() if value is not None else None


class RecordsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: list[dict[str, Any]] = Field(
        description="Objects keyed by item field (or Chinese name)", max_length=100_000
    )
    mode: str = Field(default="append", description="append | upsert | replace")
    on_error: str = Field(default="reject_rows", description="reject_rows | all_or_nothing")


class FieldOut(BaseModel):
    id: str
    type: str
    name: str


class RecordsOut(BaseModel):
    resource_id: str
    fields: list[FieldOut]
    records: list[dict[str, Any]]
    total: int | None
    limit: int
    offset: int


class RejectedRowOut(BaseModel):
    row_number: int = Field(description="CSV line (header = 1), sheet row, or record position")
    reason: str = Field(description="Why, in the request's language")
    reason_id: str = Field(description="The English message id of the reason")
    params: dict[str, Any]
    raw: Any


class BatchOut(BaseModel):
    id: str
    resource_id: str
    actor_id: str | None
    actor_name: str | None
    started_at: str | None
    finished_at: str | None
    source: str
    format: str
    encoding: str | None
    mode: str
    on_error: str
    status: str
    rows_total: int
    rows_accepted: int
    rows_rejected: int
    rejected_listed: int
    rejected: list[RejectedRowOut] = Field(default_factory=list)
    rejected_limit: int = 100
    rejected_offset: int = 0


def reason_text(row: RejectedRow) -> str:
    try:
        return gettext(row.reason, **(row.params or {}))
    except (KeyError, IndexError, ValueError):
        return row.reason


def rejected_out(row: RejectedRow) -> RejectedRowOut:
    return RejectedRowOut(
        row_number=row.row_number,
        reason=reason_text(row),
        reason_id=row.reason,
        params=row.params or {},
        raw=row.raw,
    )


def batch_out(
    batch: LoadBatch, rejected: list[RejectedRow], *, limit: int = 100, offset: int = 0
) -> BatchOut:
    return BatchOut(
        id=batch.id,
        resource_id=batch.resource_id,
        actor_id=batch.actor_id,
        actor_name=batch.actor_name,
        started_at=iso(batch.started_at),
        finished_at=iso(batch.finished_at),
        source=batch.source,
        format=batch.format,
        encoding=batch.encoding,
        mode=batch.mode,
        on_error=batch.on_error,
        status=batch.status,
        rows_total=batch.rows_total,
        rows_accepted=batch.rows_accepted,
        rows_rejected=batch.rows_rejected,
        rejected_listed=batch.rejected_listed,
        rejected=[rejected_out(r) for r in rejected],
        rejected_limit=limit,
        rejected_offset=offset,
    )


class TimelinessOut(BaseModel):
    resource_id: str
    code: str
    name: str
    provider_id: str
    update_cycle: str
    data_updated_at: str | None
    due_at: str | None
    overdue: bool
    row_count: int
    last_batch_id: str | None


def timeliness_out(entry: dict[str, Any]) -> TimelinessOut:
    return TimelinessOut(
        **{k: v for k, v in entry.items() if k not in ("data_updated_at", "due_at", "overdue_by")},
        data_updated_at=iso(entry["data_updated_at"]),
        due_at=iso(entry["due_at"]),
    )
