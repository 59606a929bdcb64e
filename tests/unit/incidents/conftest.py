"""Incident tests: exchange audit records written by hand (actor None, the contract detail)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI

from cityos.audit.services import record
from cityos.config import Settings

# Wednesday 25 November 2026, 11:00 in Haikou: working hours of a working day
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No background detector: tests run it themselves at a fixed time."""
    return settings.model_copy(update={"incident_detect_interval": 0, "audit_sth_interval": 0})


def access(
    action: str = "exchange.records",
    *,
    at: datetime,
    code: str | None = "KCODE0001",
    grant: str | None = "g1",
    rows: int = 10,
    result: str = "ok",
    ip: str = "10.1.2.3",
    resource_id: str | None = "r1",
    row_ids: list[int] | None = None,
    consumer: str | None = "consumer",
    provider: str | None = "provider",
    items: list[str] | None = None,
    fmt: str | None = None,
) -> dict[str, Any]:
    """One call through an authorization code, as the exchange audits it (contract.md)."""
    denied = action == "exchange.denied"
    detail: dict[str, Any] = {
        "code": code,
        "consumer_org_id": None if denied else consumer,
        "provider_org_id": None if denied else provider,
        "resource_id": None if denied else resource_id,
        "service_id": None,
        "items": [] if denied else list(items or ["name"]),
        "rows": 0 if denied else rows,
        "row_ids": [] if denied else list(row_ids if row_ids is not None else range(1, rows + 1)),
        "purpose": "测试用途",
        "result": result,
        "ip": ip,
        "filters": {},
    }
    if fmt:
        detail["format"] = fmt
    return {
        "action": action,
        "target_type": "code" if denied else "grant",
        "target_id": code if denied else grant,
        "at": at,
        "detail": detail,
    }


def write(app: FastAPI, calls: list[dict[str, Any]]) -> None:
    """Append the calls to the audit log, with their (crafted) times."""
    with app.state.db.session() as session:
        for call in calls:
            entry = record(
                session,
                None,
                call["action"],
                call["target_type"],
                call["target_id"],
                **call["detail"],
            )
            entry.at = call["at"]


def every(start: datetime, step: timedelta, n: int, **kwargs: Any) -> list[dict[str, Any]]:
    return [access(at=start + i * step, **kwargs) for i in range(n)]
