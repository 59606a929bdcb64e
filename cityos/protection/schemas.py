"""Request and response bodies of /api/v1/protection."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class DetectedOut(BaseModel):
    type: str
    ratio: float


class ItemGradeOut(BaseModel):
    field: str
    name: str
    grade: str
    proposed_grade: str | None
    pi_type: str | None
    detected: list[DetectedOut]
    sensitivity: str
    grade_status: str
    encrypted: bool = False  # stored encrypted at rest


class ResourceGradesOut(BaseModel):
    id: str
    code: str
    name: str
    provider_id: str
    grade: str
    grade_status: str
    proposed_grade: str
    items: list[ItemGradeOut]
    encryption: dict[str, list[str]] | None = None  # after a confirmation: what changed


class ItemGradeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str
    grade: str | None = None
    pi_type: str | None = Field(default=None, description="detector type, or null for none")
    sensitivity: str | None = None


class GradesIn(BaseModel):
    """A reviewer's confirmation. Items left out keep their grade, type and category; all are
    confirmed. ``grade`` (the resource's) defaults to the highest item grade (raised when a
    name sits next to a way to reach the person); it may not be below the highest item grade."""

    model_config = ConfigDict(extra="forbid")

    grade: str | None = None
    items: list[ItemGradeIn] = Field(default_factory=list)
    comment: str = ""

    def item_changes(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for item in self.items:
            given = item.model_dump(exclude_unset=True)
            given.pop("field", None)
            out[item.field] = given
        return out


class PoliciesOut(BaseModel):
    by_grade: dict[str, str]
    defaults: dict[str, str]
    methods: list[str]
    grades: list[str]


class PoliciesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by_grade: dict[str, str]
