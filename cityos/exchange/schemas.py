"""Response bodies of the exchange API (for the OpenAPI description; answers are built directly)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class ExchangeFieldOut(BaseModel):
    id: str
    type: str = Field(description="Data type; masked items are strings")
    name: str
    masking: str | None = Field(
        default=None, description="keep (absent), mask, pseudonymize, generalize, suppress"
    )


class ExchangeRecordsOut(BaseModel):
    resource_id: str
    grant_id: str
    fields: list[ExchangeFieldOut]
    records: list[dict[str, Any]]
    total: int | None
    limit: int
    offset: int


class GrantItemOut(BaseModel):
    field: str
    name: str
    type: str | None = Field(description="Personal-information type used for masking")
    masking: str


class GrantOut(BaseModel):
    grant_id: str
    resource_id: str
    resource_code: str
    service_id: str | None
    consumer_org_id: str
    provider_org_id: str
    purpose: str
    items: list[GrantItemOut]
    row_scope: dict[str, list[Any]]
    valid_from: date | None
    valid_until: date | None
    allow_export: bool
    code: str = Field(description="Key id of the code used")
    code_expires_at: datetime | None
