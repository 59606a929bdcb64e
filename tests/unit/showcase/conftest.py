"""A small world for showcase tests: three published resources of 市生态环境局 (无条件开放,
有条件开放, not open), a draft open one, a developer, another user and the bureau."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from cityos.auth.principal import Principal
from cityos.catalog.models import Resource, ResourceClass
from tests.conftest import Actors


@dataclass
class World:
    app: FastAPI
    client: TestClient
    actors: Actors
    org: str
    ids: dict[str, str] = field(default_factory=dict)  # code → resource id
    _tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def db(self) -> Any:
        return self.app.state.db

    def headers(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            self._tokens[username] = self.actors.headers(username)
        return self._tokens[username]

    def principal(self, username: str) -> Principal:
        from cityos.auth import services as auth

        with self.db.session() as session:
            user = auth.get_user_by_name(session, username)
            assert user is not None
            return auth.principal_for(session, user)

    def resource(self, code: str, name: str, open_type: str, status: str = "published") -> str:
        with self.db.session() as session:
            if session.get(ResourceClass, "9") is None:
                session.add(ResourceClass(code="9", name="测试", level=1))
                session.flush()
            resource = Resource(
                code=code,
                name=name,
                class_code="9",
                provider_id=self.org,
                open_type=open_type,
                status=status,
            )
            session.add(resource)
            session.flush()
            self.ids[code] = resource.id
            return resource.id

    def body(self, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "title": "椰城空气",
            "kind": "app",
            "summary": "查看海口各站点实时空气质量的小程序。",
            "description": "每小时更新。\n数据来自市生态环境局。",
            "url": "https://example.org/air",
            "author": "椰城开发者社区",
            "datasets": ["9-000001"],
        }
        body.update(extra)
        return body

    def submit(self, username: str = "developer", **extra: Any) -> Response:
        return self.client.post(
            "/api/v1/showcase", json=self.body(**extra), headers=self.headers(username)
        )

    def submitted(self, username: str = "developer", **extra: Any) -> dict[str, Any]:
        response = self.submit(username, **extra)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def review(self, app_id: str, action: str, reason: str = "") -> Response:
        return self.client.post(
            f"/api/v1/showcase/{app_id}/review",
            json={"action": action, "reason": reason},
            headers=self.headers("admin"),
        )

    def approved(self, **extra: Any) -> dict[str, Any]:
        app = self.submitted(**extra)
        response = self.review(app["id"], "approve")
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture
def world(client: TestClient, actors: Actors) -> World:
    org = actors.org("海口市生态环境局")
    actors.user("admin", "admin")
    actors.user("developer", "public")
    actors.user("other", "public")
    actors.user("officer_env", "data_officer", org)
    w = World(client.app, client, actors, org)  # type: ignore[arg-type]
    w.resource("9-000001", "海口市空气质量监测数据", "unconditional")
    w.resource("9-000002", "南渡江水位监测数据", "conditional")
    w.resource("9-000003", "人口基础信息", "none")
    w.resource("9-000004", "未发布的开放数据", "unconditional", status="draft")
    return w
