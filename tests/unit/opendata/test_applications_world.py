"""A small world for the application and usage tests (imported by them; holds no tests):
two providers (市公安局, 市生态环境局) with open datasets, their officers, a developer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityos.auth.principal import Principal
from cityos.catalog.models import Resource, ResourceClass, ResourceItem
from tests.conftest import Actors

CASES = [
    {"quarter": f"2024Q{q}", "district": d, "cases": 100 + 10 * q + i, "solved": 80 + q + i}
    for q in range(1, 5)
    for i, d in enumerate(("秀英区", "龙华区", "琼山区", "美兰区"))
]


@dataclass
class World:
    app: FastAPI
    client: TestClient
    actors: Actors
    police: str
    eco: str
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

    def user_id(self, username: str) -> str:
        principal = self.principal(username)
        assert principal.user_id is not None
        return principal.user_id

    def dataset(
        self,
        open_type: str = "conditional",
        *,
        provider: str | None = None,
        status: str = "published",
        name: str = "治安案件统计",
        records: bool = False,
    ) -> str:
        with self.db.session() as session:
            if session.get(ResourceClass, "9") is None:
                session.add(ResourceClass(code="9", name="测试", level=1))
                session.flush()
            n = session.query(Resource).count() + 1
            resource = Resource(
                code=f"9-{n:06d}",
                name=name,
                class_code="9",
                provider_id=provider or self.police,
                share_type="unconditional",
                open_type=open_type,
                status=status,
                update_cycle="quarterly",
            )
            session.add(resource)
            session.flush()
            items = (
                ("quarter", "季度", "string"),
                ("district", "区", "string"),
                ("cases", "案件数", "integer"),
                ("solved", "破案数", "integer"),
            )
            for position, (fld, label, data_type) in enumerate(items):
                session.add(
                    ResourceItem(
                        resource_id=resource.id,
                        position=position,
                        field=fld,
                        name=label,
                        data_type=data_type,
                        grade="一般-1",
                        grade_status="confirmed",
                    )
                )
            rid = resource.id
        if records:
            from cityos.datastore import services as datastore

            batch = datastore.load_records(
                self.db, rid, CASES, actor=self.principal("officer_police")
            )
            assert batch.status == "succeeded", batch.status
        return rid

    def code_of(self, resource_id: str) -> str:
        with self.db.session() as session:
            resource = session.get(Resource, resource_id)
            assert resource is not None
            return resource.code


@pytest.fixture(name="world")
def h5_world(app: FastAPI, client: TestClient, actors: Actors) -> World:
    police = actors.org("海口市公安局")
    eco = actors.org("海口市生态环境局")
    actors.user("admin", "admin")
    actors.user("reviewer", "reviewer")
    actors.user("officer_police", "data_officer", police)
    actors.user("staff_police", "public", police)
    actors.user("officer_eco", "data_officer", eco)
    actors.user("developer", "public")
    actors.user("other_dev", "public")
    return World(app, client, actors, police, eco)
