"""Usage of open datasets for publishers (/workbench/open-usage: their departments' datasets)
and the bureau (/console/open-usage: per publisher and per dataset), and /api/v1/open/usage."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from cityos.auth.access import authenticated, roles
from cityos.auth.principal import Principal
from cityos.core.errors import ProblemError, forbidden
from cityos.opendata import usage

router = APIRouter()
api_router = APIRouter(prefix="/open/usage", tags=["open data"])
OFFICER = roles("data_officer", "admin")
BUREAU = roles("admin", "reviewer")
WINDOWS = (7, 30, 90)


def _window(value: str | int | None) -> int:
    try:
        days = int(value) if value not in (None, "") else 30
    except (TypeError, ValueError):
        days = 0
    if days not in WINDOWS:
        raise ProblemError(400, "bad_days", "days must be one of {choices}.", choices="7, 30, 90")
    return days


def _scope(principal: Principal) -> frozenset[str] | None:
    """None: every publisher (the bureau); else the departments the principal is officer of."""
    if principal.sees_everything:
        return None
    if not principal.officer_org_ids:
        raise forbidden("Usage figures are for the data officers of publishing departments.")
    return principal.officer_org_ids


def report(session: Session, scope: frozenset[str] | None, days: int) -> dict[str, Any]:
    """Everything the pages and the API show: totals, per publisher, per dataset, per day."""
    datasets = usage.per_dataset(session, provider_ids=scope, days=days)
    publishers = usage.per_publisher(session, days, provider_ids=scope)
    series = usage.daily_series(session, days=days, provider_ids=scope)
    totals = {
        kind: sum(getattr(p, kind) for p in publishers) for kind in ("view", "download", "api")
    }
    return {
        "days": days,
        "since": usage.window_start(days),
        "until": usage.today(),
        "totals": totals,
        "publishers": publishers,
        "datasets": datasets,
        "series": series,
    }


def _chart_json(series: list[usage.DayUsage]) -> str:
    data = {
        "days": [d.day.isoformat() for d in series],
        "view": [d.view for d in series],
        "download": [d.download for d in series],
        "api": [d.api for d in series],
    }
    return json.dumps(data).replace("</", "<\\/")


def _page(
    request: Request, principal: Principal, scope: frozenset[str] | None, bureau: bool
) -> Response:
    from cityos.core.web import render

    days = _window(request.query_params.get("days"))
    with request.app.state.db.session() as session:
        context = report(session, scope, days)
    context.update(
        {
            "bureau": bureau,
            "windows": WINDOWS,
            "chart_json": _chart_json(context["series"]),
            "base_path": "/console/open-usage" if bureau else "/workbench/open-usage",
        }
    )
    return render(request, "opendata/usage.html", context)


@router.get("/workbench/open-usage", response_class=HTMLResponse)
def workbench_usage(request: Request, principal: Principal = Depends(OFFICER)) -> Response:
    """Views, downloads and API calls of my departments' open datasets (7/30/90 days)."""
    scope = None if principal.is_admin else _scope(principal)
    return _page(request, principal, scope, bureau=False)


@router.get("/console/open-usage", response_class=HTMLResponse)
def console_usage(request: Request, principal: Principal = Depends(BUREAU)) -> Response:
    """The bureau's view: usage of open data per publisher and per dataset (7/30/90 days)."""
    return _page(request, principal, None, bureau=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        row = {k: _jsonable(v) for k, v in asdict(value).items()}
        if hasattr(value, "total"):
            row["total"] = value.total
        return row
    return value


@api_router.get("")
def usage_api(
    request: Request,
    days: int = Query(30, description="Window in days: 7, 30 or 90."),
    principal: Principal = Depends(authenticated),
) -> dict[str, Any]:
    """Usage of open datasets over the last ``days`` days: totals, per publisher, per dataset
    and per day (Asia/Shanghai). Data officers see their departments' datasets, the bureau all;
    anyone else 403."""
    window = _window(days)
    scope = _scope(principal)
    with request.app.state.db.session() as session:
        data = report(session, scope, window)
    data["scope"] = "all" if scope is None else "own"
    return {key: _jsonable(value) for key, value in data.items()}
