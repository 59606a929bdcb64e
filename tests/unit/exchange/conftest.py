"""A small world for exchange tests: a provider (市公安局) with a conditional people resource,
two consumer departments, a grant with a code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityos.auth.principal import Principal
from cityos.catalog.models import Resource, ResourceClass, ResourceItem
from cityos.core.db import utcnow
from cityos.exchange import services
from cityos.sharing.grants import create_grant, get_grant
from tests.conftest import Actors

PEOPLE_ITEMS: list[tuple[str, str, str, str, str | None]] = [
    # field, name, type, grade, pi_type
    ("id_card", "公民身份号码", "string", "重要", "id_card"),
    ("name", "姓名", "string", "一般-3", "name"),
    ("district", "所属区", "string", "一般-1", None),
    ("age", "年龄", "integer", "一般-1", None),
    ("mobile", "手机号码", "string", "一般-4", "mobile"),
    ("note", "备注", "text", "一般-1", None),
]
DISTRICTS = ("秀英区", "龙华区", "琼山区", "美兰区")


PEOPLE = [
    {
        "id_card": f"46010019900101{n:04d}",
        "name": ["王伟", "李娜", "张敏", "刘洋", "陈静", "杨磊", "黄勇", "赵丽"][n % 8],
        "district": DISTRICTS[n % 4],
        "age": 20 + n,
        "mobile": f"1380013{n:04d}",
        "note": "江边" if n % 3 == 0 else "城区",
    }
    for n in range(12)
]


@dataclass
class World:
    app: FastAPI
    client: TestClient
    actors: Actors
    police: str  # provider
    civil: str  # consumer
    health: str  # another consumer
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

    def people(self, share_type: str = "conditional", open_type: str = "none") -> str:
        from cityos.datastore import services as datastore

        with self.db.session() as session:
            if session.get(ResourceClass, "9") is None:
                session.add(ResourceClass(code="9", name="测试", level=1))
                session.flush()
            n = session.query(Resource).count() + 1
            resource = Resource(
                code=f"9/{n:06d}",
                name="实有人口基础信息",
                class_code="9",
                provider_id=self.police,
                share_type=share_type,
                open_type=open_type,
                status="published",
                update_cycle="daily",
                grade="重要",
            )
            session.add(resource)
            session.flush()
            for position, (fld, label, data_type, grade, pi_type) in enumerate(PEOPLE_ITEMS):
                session.add(
                    ResourceItem(
                        resource_id=resource.id,
                        position=position,
                        field=fld,
                        name=label,
                        data_type=data_type,
                        grade=grade,
                        pi_type=pi_type,
                        grade_status="confirmed",
                    )
                )
            rid = resource.id
        batch = datastore.load_records(self.db, rid, PEOPLE, actor=self.principal("officer_police"))
        assert batch.status == "succeeded", batch.status
        return rid

    def grant(
        self,
        resource_id: str,
        *,
        consumer: str | None = None,
        items: tuple[str, ...] = ("id_card", "name", "district", "age"),
        row_scope: dict[str, Any] | None = None,
        allow_export: bool = False,
        masking: dict[str, Any] | None = None,
        valid_until: date | None = None,
    ) -> str:
        with self.db.session() as session:
            resource = session.get(Resource, resource_id)
            grant = create_grant(
                session,
                resource=resource,
                consumer_org_id=consumer or self.civil,
                items=list(items),
                valid_from=date.today() - timedelta(days=1),
                valid_until=valid_until or date.today() + timedelta(days=200),
                actor=None,
                purpose="最低生活保障资格核验",
                row_scope=row_scope,
                allow_export=allow_export,
                masking=masking,
            )
            return grant.id

    def code(
        self,
        grant_id: str,
        *,
        expires_at: datetime | None = None,
        username: str = "officer_civil",
        rate: int = 600,
    ) -> tuple[str, str]:
        """(key id, plaintext)."""
        with self.db.session() as session:
            row, plaintext = services.issue_code(
                session,
                get_grant(session, grant_id),
                self.principal(username),
                expires_at=expires_at or utcnow() + timedelta(days=30),
                label="低保核验系统",
                rate_limit_per_minute=rate,
            )
            return row.key_id, plaintext

    def call(self, plaintext: str | None, path: str = "/records", **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {plaintext}"} if plaintext else {}
        return self.client.get(f"/api/v1/exchange{path}", params=params, headers=headers)


@pytest.fixture
def world(app: FastAPI, client: TestClient, actors: Actors) -> World:
    police = actors.org("海口市公安局")
    civil = actors.org("海口市民政局")
    health = actors.org("海口市卫生健康委员会")
    actors.user("admin", "admin")
    actors.user("officer_police", "data_officer", police)
    actors.user("officer_civil", "data_officer", civil)
    actors.user("staff_civil", "public", civil)
    actors.user("officer_health", "data_officer", health)
    return World(app, client, actors, police, civil, health)


def exchange_records(app: FastAPI, action: str | None = None) -> list[Any]:
    from sqlalchemy import select

    from cityos.audit.models import AuditRecord

    with app.state.db.session() as session:
        query = select(AuditRecord).where(AuditRecord.action.like("exchange.%"))
        if action:
            query = query.where(AuditRecord.action == action)
        return list(session.scalars(query.order_by(AuditRecord.leaf_index)))
