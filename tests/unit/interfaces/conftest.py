"""A small world for interface-service tests: 市公安局 with a residents resource, 市市场监管局
with an enterprise resource, a consumer department (市民政局), their officers and the bureau."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityos.auth.principal import Principal
from cityos.catalog.models import Resource, ResourceClass, ResourceItem
from cityos.datastore import services as datastore
from tests.conftest import Actors
from tests.unit.protection.ids import make_id, make_uscc

ALICE_ID = make_id("460105", "19900307", "123")
BOB_ID = make_id("460106", "19851111", "456")
ENTERPRISE_A = make_uscc("91460100MA5T00001")
ENTERPRISE_B = make_uscc("91460100MA5T00002")

RESIDENT_ITEMS: list[tuple[str, str, str]] = [
    ("id_number", "身份证号", "string"),
    ("name", "姓名", "string"),
    ("district", "现居住区", "string"),
    ("birth_date", "出生日期", "date"),
    ("phone", "联系电话", "string"),
]
ENTERPRISE_ITEMS: list[tuple[str, str, str]] = [
    ("uscc", "统一社会信用代码", "string"),
    ("name", "企业名称", "string"),
    ("status", "登记状态", "string"),
    ("legal_representative", "法定代表人", "string"),
    ("registered_capital", "注册资本", "number"),
    ("district", "所在区", "string"),
]


@dataclass
class CodeCaller:
    """What ``cityos.exchange.access.code_context`` gives the call (CodeContext's fields)."""

    code_key_id: str
    grant_id: str
    resource_id: str
    service_id: str | None
    consumer_org_id: str
    provider_org_id: str
    items: list[str] = field(default_factory=list)
    row_scope: dict[str, Any] = field(default_factory=dict)
    allow_export: bool = False
    purpose: str = "低保审核身份核验"


@dataclass
class World:
    app: FastAPI
    client: TestClient
    actors: Actors
    police: str
    market: str
    civil: str  # the consumer department
    residents: str = ""
    enterprises: str = ""
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

    def resource(self, provider: str, name: str, items: list[tuple[str, str, str]], n: int) -> str:
        with self.db.session() as session:
            if session.get(ResourceClass, "9") is None:
                session.add(ResourceClass(code="9", name="测试", level=1))
                session.flush()
            resource = Resource(
                code=f"9/{n:06d}",
                name=name,
                class_code="9",
                provider_id=provider,
                share_type="conditional",
                open_type="none",
                status="published",
            )
            session.add(resource)
            session.flush()
            for position, (fld, label, data_type) in enumerate(items):
                session.add(
                    ResourceItem(
                        resource_id=resource.id,
                        position=position,
                        field=fld,
                        name=label,
                        data_type=data_type,
                    )
                )
            return resource.id

    def register(self, username: str = "officer_police", **body: Any) -> Any:
        return self.client.post("/api/v1/interfaces", json=body, headers=self.headers(username))

    def verify_body(self, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": "居民身份核验",
            "resource_id": self.residents,
            "kind": "query",
            "operation": "verify",
            "inputs": [{"name": "id_number", "detector": "id_card"}, {"name": "name"}],
        }
        body.update(extra)
        return body

    def lookup_body(self, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": "企业登记状态查询",
            "resource_id": self.enterprises,
            "kind": "query",
            "operation": "lookup",
            "inputs": [{"name": "uscc", "detector": "uscc"}],
            "outputs": [{"name": "name"}, {"name": "status"}],
        }
        body.update(extra)
        return body

    def confirmed(self, body: dict[str, Any], username: str = "officer_police") -> dict[str, Any]:
        response = self.register(username, **body)
        assert response.status_code == 201, response.text
        code = response.json()["code"]
        confirm = self.client.post(
            f"/api/v1/interfaces/{code}/confirm", json={}, headers=self.headers("admin")
        )
        assert confirm.status_code == 200, confirm.text
        return dict(confirm.json())

    def grant(self, service: dict[str, Any], consumer: str | None = None, **extra: Any) -> str:
        from cityos.catalog.services import get_resource_internal
        from cityos.sharing.grants import create_grant

        with self.db.session() as session:
            resource = get_resource_internal(session, service["resource_id"])
            assert resource is not None
            grant = create_grant(
                session,
                resource=resource,
                consumer_org_id=consumer or self.civil,
                items=[o["name"] for o in service["outputs"]],
                valid_from=date.today() - timedelta(days=1),
                valid_until=date.today() + timedelta(days=30),
                actor=None,
                purpose="低保审核身份核验",
                service_id=service["id"],
                **extra,
            )
            return grant.id

    def caller(self, service: dict[str, Any], grant_id: str, **extra: Any) -> CodeCaller:
        values: dict[str, Any] = {
            "code_key_id": "k" + grant_id[:8],
            "grant_id": grant_id,
            "resource_id": service["resource_id"],
            "service_id": service["id"],
            "consumer_org_id": self.civil,
            "provider_org_id": service["provider_org_id"],
        }
        values.update(extra)
        return CodeCaller(**values)

    def call(self, code: str, inputs: Any, caller: CodeCaller) -> dict[str, Any]:
        from cityos.interfaces import calls
        from cityos.interfaces.proxy import runtime_of

        return calls.call(self.db, runtime_of(self.app.state), code, inputs, caller, "10.0.0.9")


def _load(world: World) -> None:
    police = world.principal("officer_police")
    market = world.principal("officer_market")
    datastore.load_records(
        world.db,
        world.residents,
        [
            {"id_number": ALICE_ID, "name": "王小丽", "district": "460105", "phone": "13800138000"},
            {"id_number": BOB_ID, "name": "李建国", "district": "460106", "phone": "13900139000"},
        ],
        actor=police,
    )
    datastore.load_records(
        world.db,
        world.enterprises,
        [
            {
                "uscc": ENTERPRISE_A,
                "name": "海口椰风贸易有限公司",
                "status": "存续",
                "legal_representative": "陈大文",
                "registered_capital": 100,
                "district": "460105",
            },
            {
                "uscc": ENTERPRISE_B,
                "name": "海口蓝海科技有限公司",
                "status": "注销",
                "legal_representative": "林小海",
                "registered_capital": 50,
                "district": "460108",
            },
            {
                "uscc": ENTERPRISE_B,  # a duplicate row (no key declared): never both answered
                "name": "海口蓝海科技有限公司（重复）",
                "status": "注销",
                "legal_representative": "林小海",
                "registered_capital": 50,
                "district": "460108",
            },
        ],
        actor=market,
    )


@pytest.fixture
def world(client: TestClient, actors: Actors) -> World:
    police = actors.org("海口市公安局")
    market = actors.org("海口市市场监督管理局")
    civil = actors.org("海口市民政局")
    actors.user("admin", "admin")
    actors.user("reviewer", "reviewer")
    actors.user("officer_police", "data_officer", police)
    actors.user("officer_market", "data_officer", market)
    actors.user("officer_civil", "data_officer", civil)
    actors.user("staff_civil", "public", civil)
    actors.user("citizen", "public")
    w = World(client.app, client, actors, police, market, civil)  # type: ignore[arg-type]
    w.residents = w.resource(police, "海口市人口基础信息", RESIDENT_ITEMS, 1)
    w.enterprises = w.resource(market, "企业登记信息", ENTERPRISE_ITEMS, 2)
    _load(w)
    return w
