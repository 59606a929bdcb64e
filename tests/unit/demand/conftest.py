"""A small world for demand tests: two departments, their officers, the bureau and citizens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityos.core.i18n import DISPLAY_TZ
from tests.conftest import Actors


@dataclass
class World:
    client: TestClient
    actors: Actors
    water: str  # 市水务局
    eco: str  # 市生态环境局
    tokens: dict[str, dict[str, str]]

    @property
    def app(self) -> FastAPI:
        return cast(FastAPI, self.client.app)

    def headers(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            self.tokens[username] = self.actors.headers(username)
        return self.tokens[username]

    def propose(self, username: str = "citizen", **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "title": "南渡江实时水位开放",
            "description": "希望开放南渡江各水文站的逐时水位数据，用于防汛出行提醒小程序。",
            "org_id": self.water,
            "scenario": "防汛出行提醒",
        }
        body.update(fields)
        response = self.client.post("/api/v1/demands", json=body, headers=self.headers(username))
        assert response.status_code == 201, response.text
        return dict(response.json())

    def answer(self, demand_id: str, username: str = "officer_water", **body: Any) -> Any:
        return self.client.post(
            f"/api/v1/demands/{demand_id}/answer", json=body, headers=self.headers(username)
        )

    def vote(self, demand_id: str, username: str) -> Any:
        return self.client.post(f"/api/v1/demands/{demand_id}/vote", headers=self.headers(username))

    def notifications(self, username: str) -> dict[str, Any]:
        response = self.client.get("/api/v1/notifications", headers=self.headers(username))
        assert response.status_code == 200, response.text
        return dict(response.json())

    def resource(self, *, open_type: str = "unconditional", publish: bool = True) -> dict[str, Any]:
        body = {
            "name": "南渡江水位监测",
            "class_code": "202001",
            "provider_id": self.water,
            "summary": "南渡江各水位站的实时水位。",
            "share_type": "unconditional",
            "open_type": open_type,
            "update_cycle": "realtime",
            "items": [{"field": "station", "name": "站点名称", "data_type": "string"}],
        }
        created = self.client.post(
            "/api/v1/catalog/resources", json=body, headers=self.headers("officer_water")
        )
        assert created.status_code == 201, created.text
        resource = dict(created.json())
        if publish:
            self.publish(resource["id"])
        return resource

    def act(self, resource_id: str, action: str, username: str) -> Any:
        return self.client.post(
            f"/api/v1/catalog/resources/{resource_id}/{action}",
            json={"comment": ""},
            headers=self.headers(username),
        )

    def publish(self, resource_id: str) -> None:
        for action, who in (
            ("submit", "officer_water"),
            ("confirm", "admin"),
            ("publish", "officer_water"),
        ):
            response = self.act(resource_id, action, who)
            assert response.status_code == 200, response.text


def _today() -> Any:
    return datetime.now(DISPLAY_TZ).date()


def tomorrow() -> str:
    return (_today() + timedelta(days=1)).isoformat()


def yesterday() -> str:
    return (_today() - timedelta(days=1)).isoformat()


@pytest.fixture
def world(client: TestClient, actors: Actors) -> World:
    water = actors.org("市水务局")
    eco = actors.org("市生态环境局")
    actors.user("admin", "admin")
    actors.user("officer_water", "data_officer", water)
    actors.user("officer_eco", "data_officer", eco)
    actors.user("citizen", "public")
    actors.user("voter", "public")
    actors.user("developer", "public")
    return World(client, actors, water, eco, {})
