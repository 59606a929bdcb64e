"""Request and response bodies of the catalogue API (pydantic v2, unknown fields refused)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from cityos.catalog.models import (
    FORMATS,
    ITEM_TYPES,
    OPEN_TYPES,
    SENSITIVITIES,
    SHARE_METHODS,
    SHARE_TYPES,
    UPDATE_CYCLES,
)
from cityos.core.i18n import DISPLAY_TZ


def _iso(value: datetime | None) -> str | None:
    """ISO 8601 with the display offset (+08:00)."""
    return value.astimezone(DISPLAY_TZ).isoformat() if value is not None else None


def _one_of(values: tuple[str, ...]) -> str:
    return " | ".join(values)


class ItemIn(BaseModel):
    """信息项: one field of a resource."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    field: str = Field(max_length=64, description="Machine name: ^[a-z][a-z0-9_]{0,62}$")
    name: str = Field(min_length=1, max_length=100, description="信息项名称")
    data_type: str = Field(default="string", description=_one_of(ITEM_TYPES))
    length: int | None = Field(default=None, ge=1, le=1_000_000)
    description: str = Field(default="", max_length=2000)
    sensitivity: str = Field(default="public", description=_one_of(SENSITIVITIES))
    unit: str = Field(default="", max_length=20)
    required: bool = False
    # read-only here (a GET → edit → PUT round trip carries them): grades are confirmed by a
    # reviewer on the classification review, /api/v1/protection
    grade: str | None = Field(default=None, exclude=True, description="Read-only; ignored")
    pi_type: str | None = Field(default=None, exclude=True, description="Read-only; ignored")
    grade_status: str | None = Field(default=None, exclude=True, description="Read-only; ignored")


class ResourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=200, description="信息资源名称")
    class_code: str = Field(max_length=16, description="信息资源分类 code, e.g. 202 or 201001")
    provider_id: str = Field(max_length=32, description="Organisation id of the provider")
    summary: str = Field(default="", max_length=4000, description="信息资源摘要")
    format: str = Field(default="database", description=_one_of(FORMATS))
    share_type: str = Field(default="unconditional", description=_one_of(SHARE_TYPES))
    share_condition: str = Field(default="", max_length=2000)
    share_method: str = Field(default="interface", description=_one_of(SHARE_METHODS))
    share_basis: str = Field(
        default="", max_length=2000, description="Legal basis; required when share_type is none"
    )
    open_type: str = Field(default="none", description=_one_of(OPEN_TYPES))
    open_condition: str = Field(default="", max_length=2000)
    update_cycle: str = Field(default="irregular", description=_one_of(UPDATE_CYCLES))
    published_on: date | None = None
    keywords: list[str] = Field(default_factory=list, max_length=30)
    districts: list[str] = Field(default_factory=list, max_length=20, description="GB/T 2260")
    related_codes: list[str] = Field(default_factory=list, max_length=50)
    key_fields: list[str] = Field(default_factory=list, max_length=10)
    items: list[ItemIn] = Field(default_factory=list, max_length=500)


class ResourcePatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=2, max_length=200)
    class_code: str | None = Field(default=None, max_length=16)
    provider_id: str | None = Field(default=None, max_length=32)
    summary: str | None = Field(default=None, max_length=4000)
    format: str | None = None
    share_type: str | None = None
    share_condition: str | None = Field(default=None, max_length=2000)
    share_method: str | None = None
    share_basis: str | None = Field(default=None, max_length=2000)
    open_type: str | None = None
    open_condition: str | None = Field(default=None, max_length=2000)
    update_cycle: str | None = None
    published_on: date | None = None
    keywords: list[str] | None = Field(default=None, max_length=30)
    districts: list[str] | None = Field(default=None, max_length=20)
    related_codes: list[str] | None = Field(default=None, max_length=50)
    key_fields: list[str] | None = Field(default=None, max_length=10)
    items: list[ItemIn] | None = Field(default=None, max_length=500)


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    comment: str = Field(default="", max_length=2000)


class ClassOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    name_en: str
    parent_code: str | None
    level: int


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    field: str
    name: str
    data_type: str
    length: int | None
    description: str
    sensitivity: str
    unit: str
    required: bool
    position: int
    # 分级 (cityos.protection): confirmed grade, personal-information type, proposed/confirmed
    grade: str = "一般-1"
    pi_type: str | None = None
    grade_status: str = "proposed"


class ResourceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str
    name: str
    class_code: str
    provider_id: str
    provider_name: str = ""
    summary: str
    format: str
    share_type: str
    share_condition: str
    share_method: str
    share_basis: str
    open_type: str
    open_condition: str
    update_cycle: str
    published_on: date | None
    keywords: list[str]
    districts: list[str]
    related_codes: list[str]
    key_fields: list[str]
    status: str
    review_comment: str
    version: int
    grade: str = "一般-1"  # 分级: 一般-1 … 一般-4, 重要, 核心
    grade_status: str = "proposed"  # proposed (awaits a reviewer) | confirmed
    created_at: datetime
    updated_at: datetime
    items: list[ItemOut] = Field(default_factory=list)

    @field_serializer("created_at", "updated_at")
    def _times(self, value: datetime) -> str | None:
        return _iso(value)


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    action: str
    actor_id: str | None
    actor_name: str | None
    at: datetime
    changes: dict[str, Any]
    comment: str

    @field_serializer("at")
    def _at(self, value: datetime) -> str | None:
        return _iso(value)


class FacetOut(BaseModel):
    value: str
    label: str
    count: int


class SearchOut(BaseModel):
    count: int
    results: list[ResourceOut]
    facets: dict[str, list[FacetOut]]
