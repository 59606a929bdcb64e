"""Request and response bodies of the interface-service API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cityos.core.i18n import DISPLAY_TZ
from cityos.interfaces.models import InterfaceService

INPUT_TYPES = ("string", "integer", "date")
OUTPUT_TYPES = ("string", "integer", "number", "boolean", "date", "datetime")
# detectors with a reliable whole-value check (cityos.protection.detectors.matches_value)
DETECTORS = ("id_card", "uscc", "mobile", "email", "bank_card", "plate", "passport", "permit")


class InputIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=64, description="An item field of the resource")
    label: str = Field(default="", max_length=100, description="Shown to callers (default: item)")
    type: Literal["string", "integer", "date"] | None = Field(
        default=None, description="Default: from the item's data type"
    )
    required: bool = True
    detector: str | None = Field(
        default=None, description="Checked with cityos.protection: " + ", ".join(DETECTORS)
    )
    pattern: str | None = Field(
        default=None, max_length=200, description="A regular expression the whole value matches"
    )


class OutputIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=64, description="An item field (verify: only 'match')")
    label: str = Field(default="", max_length=100)
    type: str | None = Field(default=None, description="Default: from the item's data type")


class ProxyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(max_length=500, description="http(s)://host[:port][/prefix]")
    method: Literal["GET", "POST"] = "GET"
    path: str = Field(default="/", max_length=300, description="e.g. /persons/{id_number}")
    timeout_ms: int = Field(default=3000, ge=100, le=60_000)
    retries: int = Field(default=2, ge=0, le=5, description="On connect errors and 5xx only")
    retry_unsafe: bool = Field(default=False, description="Also retry POST (declared idempotent)")
    breaker_failures: int = Field(default=5, ge=1, le=100, description="Open after N failures")
    breaker_seconds: int = Field(default=30, ge=1, le=3600, description="Stay open M seconds")


class ServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    resource_id: str = Field(description="Id or code of the catalogue resource behind it")
    kind: Literal["query", "proxy"] = "query"
    operation: Literal["verify", "lookup"] | None = Field(
        default=None, description="Query services: verify (match true/false) or lookup (1 row)"
    )
    inputs: list[InputIn] = Field(min_length=1, max_length=10)
    outputs: list[OutputIn] = Field(default_factory=list, max_length=50)
    proxy: ProxyIn | None = Field(default=None, description="Proxy services: the upstream")


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(default="", max_length=2000)


class ServiceOut(BaseModel):
    id: str
    code: str
    name: str
    description: str
    provider_org_id: str
    resource_id: str
    kind: str
    operation: str | None
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    proxy: dict[str, Any] | None
    status: str
    review_comment: str
    version: int
    created_at: str | None
    updated_at: str | None
    confirmed_at: str | None
    openapi_url: str
    call_url: str


class ServiceList(BaseModel):
    total: int
    services: list[ServiceOut]


def iso(value: datetime | None) -> str | None:
    return value.astimezone(DISPLAY_TZ).isoformat() if value is not None else None


def service_out(service: InterfaceService, *, show_upstream: bool = False) -> ServiceOut:
    """``show_upstream``: the provider and the bureau see the upstream of a proxy service."""
    proxy = None
    if service.kind == "proxy":
        spec = dict(service.spec)
        proxy = (
            spec
            if show_upstream
            else {k: v for k, v in spec.items() if k in ("method", "timeout_ms")}
        )
    return ServiceOut(
        id=service.id,
        code=service.code,
        name=service.name,
        description=service.description,
        provider_org_id=service.provider_org_id,
        resource_id=service.resource_id,
        kind=service.kind,
        operation=service.spec.get("operation") if service.kind == "query" else None,
        inputs=list(service.inputs),
        outputs=list(service.outputs),
        proxy=proxy,
        status=service.status,
        review_comment=service.review_comment,
        version=service.version,
        created_at=iso(service.created_at),
        updated_at=iso(service.updated_at),
        confirmed_at=iso(service.confirmed_at),
        openapi_url=f"/api/v1/interfaces/{service.code}/openapi.json",
        call_url=f"/api/v1/interfaces/{service.code}/call",
    )
