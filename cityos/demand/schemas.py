"""Request and response bodies of the demand API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DemandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=500, description="What data is missing (5–120 characters).")
    description: str = Field(max_length=20000, description="What is needed and why (≥ 20).")
    fields_wanted: str = Field("", max_length=5000, description="Desired fields.")
    data_format: str = Field("", max_length=500, description="Desired format, e.g. CSV, API.")
    update_frequency: str = Field("", max_length=500, description="Desired update frequency.")
    scenario: str = Field("", max_length=5000, description="How the data would be used.")
    contact: str = Field("", max_length=500, description="Optional contact (shown to officers).")
    org_id: str | None = Field(
        None, max_length=64, description="Department (id); empty: left to the bureau."
    )
    website: str = Field("", max_length=500, description="Honeypot: leave empty.")


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["accepted", "available", "refused"]
    planned_on: date | None = Field(None, description="accepted: planned date (today or later).")
    resource: str = Field(
        "",
        max_length=64,
        description="available: code of an open dataset (required); accepted: the dataset "
        "that will fulfil the demand (optional, code or id).",
    )
    text: str = Field("", max_length=5000, description="The answer; refused: the reason.")


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_id: str = Field(max_length=64)


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource: str = Field(max_length=64, description="Code or id of the dataset.")


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=5000)


class CommentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    author: str = ""
    text: str
    official: bool
    org_id: str | None
    created_at: datetime


class DemandOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    description: str
    fields_wanted: str
    data_format: str
    update_frequency: str
    scenario: str
    org_id: str | None
    department: str = ""
    status: str = Field(description="open | accepted | available | refused | fulfilled")
    votes: int
    comments: int
    created_at: datetime
    answered_at: datetime | None
    planned_on: date | None
    answer: str
    resource_code: str
    fulfilled_at: datetime | None
    response_days: int | None = Field(None, description="Working days from submission to answer.")


class DemandDetail(DemandOut):
    voted: bool = False
    comment_list: list[CommentOut] = []


class DemandPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[DemandOut]


class DepartmentStatsOut(BaseModel):
    org_id: str | None
    department: str
    total: int
    answered: int
    open: int
    median_response_days: float | None


class MonthStatsOut(BaseModel):
    month: str
    submitted: int
    answered: int


class StatsOut(BaseModel):
    total: int
    open: int
    accepted: int
    available: int
    refused: int
    fulfilled: int
    answered_share: float
    answered_within_limit: int
    limit_days: int
    median_response_days: float | None
    p90_response_days: float | None
    by_department: list[DepartmentStatsOut]
    by_month: list[MonthStatsOut]


class VoteOut(BaseModel):
    votes: int
    voted: bool


class CountOut(BaseModel):
    count: int
