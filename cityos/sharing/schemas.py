"""Request and response bodies of the sharing API (pydantic v2, unknown fields refused)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from cityos.core.i18n import DISPLAY_TZ

RowScope = dict[str, list[str]]


def _iso(value: datetime | None) -> str | None:
    """ISO 8601 with the display offset (+08:00)."""
    return value.astimezone(DISPLAY_TZ).isoformat() if value is not None else None


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RequestIn(_In):
    """A 有条件共享 request: which items of which resource, why, on what basis, for how long."""

    resource: str = Field(max_length=64, description="Resource id or 信息资源代码")
    requester_org_id: str | None = Field(
        default=None,
        max_length=32,
        description="Requesting department (needed only when you are a data officer of several)",
    )
    items: list[str] = Field(
        min_length=1, max_length=500, description="Fields (信息项) asked for, from the catalogue"
    )
    purpose: str = Field(default="", max_length=2000, description="用途 (required)")
    legal_basis: str = Field(default="", max_length=2000, description="依据 (required)")
    scenario: str = Field(default="", max_length=2000, description="使用场景")
    period_start: date | None = Field(default=None, description="Default: today")
    period_end: date | None = Field(default=None, description="Default: one year")
    row_scope: RowScope = Field(
        default_factory=dict,
        description='Rows asked for, field → allowed values, e.g. {"district": ["460106"]}',
    )
    wants_export: bool = Field(default=False, description="Bulk export asked for")


class SubscribeIn(_In):
    """Subscribe to a 无条件共享 resource: all its items, granted at once."""

    resource: str = Field(max_length=64, description="Resource id or 信息资源代码")
    requester_org_id: str | None = Field(default=None, max_length=32)
    purpose: str = Field(default="", max_length=2000)
    valid_until: date | None = Field(default=None, description="Default: one year from today")


class ApproveIn(_In):
    """Approve all that was asked (empty body), or part of it: each field narrows the grant."""

    items: list[str] | None = Field(default=None, max_length=500, description="Subset of items")
    row_scope: RowScope | None = Field(default=None, description="Narrower rows")
    valid_from: date | None = None
    valid_until: date | None = Field(default=None, description="Shorter period")
    allow_export: bool | None = Field(default=None, description="Only if export was asked for")
    reason: str = Field(
        default="", max_length=2000, description="Required when not everything is granted"
    )


class ReasonIn(_In):
    reason: str = Field(default="", max_length=2000)


class RenewIn(_In):
    valid_until: date = Field(description="New last day of the grant (later than the current)")
    reason: str = Field(default="", max_length=2000)


class CalendarDayIn(_In):
    kind: str = Field(description="holiday (法定节假日) | workday (调休上班日)")
    name: str = Field(default="", max_length=40, description="e.g. 春节 or 国庆节调休上班")


class ClockOut(BaseModel):
    overdue: bool
    remaining_working_days: int
    overdue_working_days: int


class RequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    number: str
    kind: str
    resource_id: str
    resource_code: str = ""
    resource_name: str = ""
    service_id: str | None
    provider_org_id: str
    provider_name: str = ""
    requester_org_id: str
    requester_name: str = ""
    requester_user_id: str | None
    items: list[str]
    purpose: str
    legal_basis: str
    scenario: str
    period_start: date
    period_end: date
    row_scope: dict[str, Any]
    wants_export: bool
    status: str
    submitted_at: datetime
    due_at: datetime
    limit_days: int
    reminded_at: datetime | None
    escalated_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str
    grant_id: str | None
    clock: ClockOut | None = None

    @field_serializer("submitted_at", "due_at", "reminded_at", "escalated_at", "decided_at")
    def _times(self, value: datetime | None) -> str | None:
        return _iso(value)


class RequestList(BaseModel):
    count: int
    results: list[RequestOut]


class UsageOut(BaseModel):
    calls: int = Field(description="Calls through authorization codes of the grant")
    failed_calls: int = Field(description="Of which refused or failed")
    rows: int = Field(description="Records delivered")
    rows_complete: bool = Field(description="False when rows counts only the newest calls")
    exports: int
    last_used_at: datetime | None
    purposes: list[str] = Field(description="Purposes given with the calls")

    @field_serializer("last_used_at")
    def _last(self, value: datetime | None) -> str | None:
        return _iso(value)


class GrantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    number: str
    kind: str
    resource_id: str
    resource_code: str = ""
    resource_name: str = ""
    service_id: str | None
    provider_org_id: str
    provider_name: str = ""
    consumer_org_id: str
    consumer_name: str = ""
    request_id: str | None
    items: list[str]
    row_scope: dict[str, Any]
    purpose: str
    valid_from: date
    valid_until: date
    allow_export: bool
    status: str
    usable: bool = False
    created_at: datetime
    renewed_at: datetime | None
    status_changed_at: datetime | None
    status_reason: str
    version: int
    usage: UsageOut | None = None

    @field_serializer("created_at", "renewed_at", "status_changed_at")
    def _times(self, value: datetime | None) -> str | None:
        return _iso(value)


class GrantList(BaseModel):
    count: int
    results: list[GrantOut]


class CalendarDayOut(BaseModel):
    day: date
    weekday: int = Field(description="1 = Monday … 7 = Sunday")
    kind: str
    name: str
    source: str = Field(description="built_in (State Council notice) | edited (the bureau)")


class CalendarOut(BaseModel):
    year: int
    built_in: bool = Field(description="Whether CityOS has the State Council notice of the year")
    decision_days: int
    days: list[CalendarDayOut]
