"""A small world for catalogue tests: two departments, a social organisation and their people."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import Actors


@dataclass
class World:
    client: TestClient
    actors: Actors
    water: str  # 市水务局 (government)
    eco: str  # 市生态环境局 (government)
    social: str  # a social organisation (not a sharing participant)

    @property
    def app(self) -> FastAPI:
        return cast(FastAPI, self.client.app)

    def headers(self, username: str) -> dict[str, str]:
        return self.actors.headers(username)

    def create(self, username: str = "officer_water", **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": "南渡江水位",
            "class_code": "202001",
            "provider_id": self.water,
            "summary": "南渡江各水位站的实时水位。",
            "share_type": "unconditional",
            "open_type": "unconditional",
            "update_cycle": "realtime",
            "keywords": ["水位", "Hydrology"],
            "districts": ["460106"],
            "items": [
                {"field": "station", "name": "站点名称", "data_type": "string", "length": 50},
                {"field": "level_m", "name": "水位", "data_type": "number", "unit": "m"},
            ],
            "key_fields": ["station"],
        }
        body.update(fields)
        response = self.client.post(
            "/api/v1/catalog/resources", json=body, headers=self.headers(username)
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def act(self, resource_id: str, action: str, username: str, comment: str = "") -> Any:
        return self.client.post(
            f"/api/v1/catalog/resources/{resource_id}/{action}",
            json={"comment": comment},
            headers=self.headers(username),
        )

    def publish(self, resource_id: str, officer: str = "officer_water") -> dict[str, Any]:
        for action, who in (("submit", officer), ("confirm", "admin"), ("publish", officer)):
            response = self.act(resource_id, action, who, comment="")
            assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture
def world(client: TestClient, actors: Actors) -> World:
    water = actors.org("市水务局")
    eco = actors.org("市生态环境局")
    social = actors.org("海口市环保志愿者协会", kind="social")
    actors.user("admin", "admin")
    actors.user("reviewer", "reviewer")
    actors.user("officer_water", "data_officer", water)
    actors.user("officer_eco", "data_officer", eco)
    actors.user("staff_eco", "public", eco)
    actors.user("volunteer", "public", social)
    actors.user("citizen", "public")
    return World(client, actors, water, eco, social)
