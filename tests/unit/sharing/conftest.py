"""A small world for sharing tests: a provider, two other departments, the bureau, outsiders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import Actors

ITEMS = [
    {"field": "name", "name": "姓名", "data_type": "string", "length": 50},
    {"field": "id_number", "name": "公民身份号码", "data_type": "string", "length": 18},
    {"field": "district", "name": "现居住区", "data_type": "string", "length": 6},
    {"field": "address", "name": "住址", "data_type": "string", "length": 200},
]


@dataclass
class World:
    client: TestClient
    actors: Actors
    police: str  # 市公安局: the provider
    civil: str  # 市民政局: asks for data
    health: str  # 市卫生健康委员会: another department
    social: str  # a social organisation (not a sharing participant)

    @property
    def app(self) -> FastAPI:
        return cast(FastAPI, self.client.app)

    def headers(self, username: str) -> dict[str, str]:
        return self.actors.headers(username)

    def resource(self, share_type: str = "conditional", **fields: Any) -> dict[str, Any]:
        """A published resource of 市公安局 (created, submitted, confirmed, published)."""
        body: dict[str, Any] = {
            "name": "常住人口基本信息",
            "class_code": "101001",
            "provider_id": self.police,
            "summary": "全市常住人口的基本信息。",
            "share_type": share_type,
            "share_condition": "用于社会救助资格核验" if share_type == "conditional" else "",
            "open_type": "none",
            "districts": ["460105", "460106"],
            "items": ITEMS,
        }
        if share_type == "none":
            body["share_basis"] = "《中华人民共和国居民身份证法》第十九条"
        body.update(fields)
        response = self.client.post(
            "/api/v1/catalog/resources", json=body, headers=self.headers("officer_police")
        )
        assert response.status_code == 201, response.text
        created = dict(response.json())
        for action, who in (
            ("submit", "officer_police"),
            ("confirm", "admin"),
            ("publish", "officer_police"),
        ):
            step = self.client.post(
                f"/api/v1/catalog/resources/{created['id']}/{action}",
                json={"comment": ""},
                headers=self.headers(who),
            )
            assert step.status_code == 200, step.text
        return created

    def ask(self, resource: dict[str, Any], username: str = "officer_civil", **fields: Any) -> Any:
        body: dict[str, Any] = {
            "resource": resource["code"],
            "items": ["name", "id_number", "district"],
            "purpose": "最低生活保障资格核验",
            "legal_basis": "《社会救助暂行办法》第十一条",
            "scenario": "低保申请受理时核验户籍",
            "row_scope": {"district": ["460105", "460106"]},
            "wants_export": True,
        }
        body.update(fields)
        return self.client.post(
            "/api/v1/sharing/requests", json=body, headers=self.headers(username)
        )


@pytest.fixture
def world(client: TestClient, actors: Actors) -> World:
    police = actors.org("市公安局")
    civil = actors.org("市民政局")
    health = actors.org("市卫生健康委员会")
    social = actors.org("海口市志愿者协会", kind="social")
    actors.user("admin", "admin")
    actors.user("reviewer", "reviewer")
    actors.user("officer_police", "data_officer", police)
    actors.user("staff_police", "public", police)
    actors.user("officer_civil", "data_officer", civil)
    actors.user("staff_civil", "public", civil)
    actors.user("officer_health", "data_officer", health)
    actors.user("volunteer", "data_officer", social)
    actors.user("citizen", "public")
    return World(client, actors, police, civil, health, social)
