"""Request and response bodies of the showcase API (/api/v1/showcase)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from cityos.core.i18n import DISPLAY_TZ
from cityos.showcase.models import ShowcaseApp

MAX_DATASETS = 10


class ShowcaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=120)
    kind: Literal["app", "analysis", "visualisation", "research"] = "app"
    summary: str = Field(default="", max_length=300, description="One or two sentences")
    description: str = Field(default="", max_length=5000)
    url: str = Field(max_length=500, description="http(s) address of the app or analysis")
    author: str = Field(default="", max_length=120, description="Organisation or author shown")
    datasets: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list,
        max_length=MAX_DATASETS,
        description="Codes of the OPEN datasets used (无条件/有条件开放, published)",
    )


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["approve", "reject"]
    reason: str = Field(default="", max_length=2000, description="Required to reject")


class DatasetRef(BaseModel):
    code: str
    name: str
    url: str


class ShowcaseOut(BaseModel):
    id: str
    title: str
    kind: str
    summary: str
    description: str
    url: str
    author: str
    status: str
    review_reason: str
    datasets: list[DatasetRef]
    created_at: str | None
    updated_at: str | None
    reviewed_at: str | None
    page_url: str


class ShowcaseList(BaseModel):
    total: int
    apps: list[ShowcaseOut]


def iso(value: datetime | None) -> str | None:
    return value.astimezone(DISPLAY_TZ).isoformat() if value is not None else None


def showcase_out(app: ShowcaseApp, datasets: list[DatasetRef]) -> ShowcaseOut:
    return ShowcaseOut(
        id=app.id,
        title=app.title,
        kind=app.kind,
        summary=app.summary,
        description=app.description,
        url=app.url,
        author=app.author,
        status=app.status,
        review_reason=app.review_reason,
        datasets=datasets,
        created_at=iso(app.created_at),
        updated_at=iso(app.updated_at),
        reviewed_at=iso(app.reviewed_at),
        page_url=f"/showcase/{app.id}",
    )
