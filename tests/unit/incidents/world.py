"""A small world: a provider with a resource of people loaded in the datastore, a consumer with a
grant and an authorization code, their officers, the bureau and a reviewer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityos.auth import services as auth
from cityos.auth.principal import Principal
from cityos.catalog.models import Resource, ResourceClass, ResourceItem
from tests.conftest import Actors
from tests.unit.incidents.conftest import NOW, access, write

PEOPLE = [
    {"name": "张三", "id_no": "460100199001011230", "phone": "13800138000", "district": "龙华区"},
    {"name": "李四", "id_no": "460100198512310027", "phone": "13912345678", "district": "美兰区"},
    {"name": "王五", "id_no": "460100200002291233", "phone": "13700001111", "district": "秀英区"},
    {"name": "赵六", "id_no": "460100197707070014", "phone": "13600002222", "district": "琼山区"},
]
ITEMS = [
    # field, Chinese name, type, personal-information type
    ("name", "姓名", "string", "name"),
    ("id_no", "公民身份号码", "string", "id_card"),
    ("phone", "联系电话", "string", "mobile"),
    ("district", "所属区", "string", None),
]


@dataclass
class World:
    app: FastAPI
    client: TestClient
    actors: Actors
    provider: str  # 市民政局
    consumer: str  # 市卫健委
    other: str  # 市水务局
    resource_id: str = ""
    resource_code: str = ""
    grant_id: str = ""
    grant_number: str = ""
    code: str = ""
    plaintext: str = ""  # the code itself, for real calls through the exchange
    _tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def db(self) -> Any:
        return self.app.state.db

    def headers(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            self._tokens[username] = self.actors.headers(username)
        return self._tokens[username]

    def principal(self, username: str) -> Principal:
        with self.db.session() as session:
            user = auth.get_user_by_name(session, username)
            assert user is not None
            return auth.principal_for(session, user)

    def calls(self, n: int = 1, **kwargs: Any) -> None:
        """n exports through the code at 23:30 (off hours), each returning rows 1–3."""
        at = kwargs.pop("at", NOW + timedelta(hours=12, minutes=30))
        base = {
            "code": self.code,
            "grant": self.grant_id,
            "resource_id": self.resource_id,
            "consumer": self.consumer,
            "provider": self.provider,
            "items": ["name", "id_no", "phone"],
            "rows": 3,
            "row_ids": [1, 2, 3],
            "fmt": "csv",
        }
        base.update(kwargs)
        write(self.app, [access("exchange.export", at=at, **base) for _ in range(n)])


def make_world(app: FastAPI, client: TestClient, actors: Actors) -> World:
    from cityos.datastore import services as datastore
    from cityos.exchange.services import issue_code
    from cityos.sharing.grants import create_grant

    provider = actors.org("市民政局")
    consumer = actors.org("市卫生健康委员会")
    other = actors.org("市水务局")
    actors.user("admin", "admin")
    actors.user("reviewer", "reviewer")
    actors.user("officer_provider", "data_officer", provider)
    actors.user("officer_consumer", "data_officer", consumer)
    actors.user("officer_other", "data_officer", other)
    actors.user("citizen", "public")
    world = World(app, client, actors, provider, consumer, other)
    with world.db.session() as session:
        if session.get(ResourceClass, "9") is None:
            session.add(ResourceClass(code="9", name="测试", level=1))
            session.flush()
        resource = Resource(
            code="9/000001",
            name="低保对象名册",
            class_code="9",
            provider_id=provider,
            share_type="conditional",
            open_type="none",
            status="published",
            update_cycle="monthly",
            key_fields=["id_no"],
        )
        session.add(resource)
        session.flush()
        for position, (fld, label, data_type, pi_type) in enumerate(ITEMS):
            session.add(
                ResourceItem(
                    resource_id=resource.id,
                    position=position,
                    field=fld,
                    name=label,
                    data_type=data_type,
                    pi_type=pi_type,
                )
            )
        world.resource_id, world.resource_code = resource.id, resource.code
    datastore.load_records(
        world.db, world.resource_id, PEOPLE, actor=world.principal("officer_provider")
    )
    with world.db.session() as session:
        resource = session.get(Resource, world.resource_id)
        grant = create_grant(
            session,
            resource=resource,
            consumer_org_id=consumer,
            items=["name", "id_no", "phone"],
            valid_from=date(2026, 1, 1),
            valid_until=date.today() + timedelta(days=365),
            actor=None,
            purpose="核查医疗救助对象",
            allow_export=True,
        )
        world.grant_id, world.grant_number = grant.id, grant.number
        code, plain = issue_code(
            session, grant, None, expires_at=NOW.replace(year=date.today().year + 1)
        )
        world.code, world.plaintext = code.key_id, plain
    return world
