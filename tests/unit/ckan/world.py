"""A small catalogue for the CKAN and DCAT tests, made through the services.

Providers: 市生态环境局 (``env``) and 市水务局 (``water``), both government departments.
Resources (all published unless said):

- ``air``: open unconditionally, 3 records — everyone sees it and reads its data;
- ``sources``: open on conditions — everyone sees it; only departments read its data
  (shared unconditionally);
- ``water``: not open, shared unconditionally — departments see it and read its data;
- ``ledger``: not open, not shared — departments see it; only 市生态环境局 reads its data;
- ``draft``: a draft of 市生态环境局 — only its members and the bureau see it.

Users: ``boss`` (bureau admin), ``envoff`` (data officer of 市生态环境局), ``waterman``
(data officer of 市水务局), ``citizen`` (public).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from cityos.auth import services as auth
from cityos.catalog import services as catalog
from cityos.catalog.schemas import ResourceIn


@dataclass
class World:
    env: str
    water_org: str
    ids: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    slugs: dict[str, str] = field(default_factory=dict)

    def name(self, key: str) -> str:
        return self.codes[key].lower()


AIR_ITEMS = [
    {"field": "station", "name": "监测站点", "data_type": "string"},
    {"field": "aqi", "name": "空气质量指数", "data_type": "integer"},
    {"field": "measured_on", "name": "监测日期", "data_type": "date"},
]
AIR_RECORDS = [
    {"station": "海口秀英", "aqi": 35, "measured_on": "2024-05-01"},
    {"station": "海口龙华", "aqi": 52, "measured_on": "2024-05-01"},
    {"station": "海口美兰", "aqi": 48, "measured_on": "2024-05-02"},
]
SIMPLE_ITEMS = [
    {"field": "name", "name": "名称", "data_type": "string"},
    {"field": "value", "name": "数值", "data_type": "number"},
]


def _principal(app: FastAPI, username: str) -> Any:
    with app.state.db.session() as session:
        user = auth.get_user_by_name(session, username)
        assert user is not None
        return auth.principal_for(session, user)


def build_world(app: FastAPI, actors: Any) -> World:
    from cityos.datastore import services as datastore

    env = actors.org("市生态环境局", "government")
    water = actors.org("市水务局", "government")
    actors.user("boss", "admin")
    actors.user("envoff", "data_officer", env)
    actors.user("waterman", "data_officer", water)
    actors.user("citizen", "public")
    admin = _principal(app, "boss")
    world = World(env=env, water_org=water)
    specs: list[tuple[str, dict[str, Any], bool]] = [
        (
            "air",
            dict(
                name="空气质量监测数据",
                class_code="201001",
                provider_id=env,
                summary="全市空气质量自动监测站的逐日空气质量指数。",
                open_type="unconditional",
                share_type="unconditional",
                update_cycle="daily",
                keywords=["空气", "环境监测"],
                districts=["460105", "460106"],
                items=AIR_ITEMS,
            ),
            True,
        ),
        (
            "sources",
            dict(
                name="重点污染源名录",
                class_code="201003",
                provider_id=env,
                summary="重点排污单位名录。",
                open_type="conditional",
                open_condition="申请后开放",
                share_type="unconditional",
                update_cycle="yearly",
                keywords=["污染源"],
                items=SIMPLE_ITEMS,
            ),
            True,
        ),
        (
            "water",
            dict(
                name="饮用水水源水质",
                class_code="202001",
                provider_id=water,
                summary="集中式饮用水水源地水质监测结果。",
                open_type="none",
                share_type="unconditional",
                update_cycle="monthly",
                keywords=["水质"],
                items=SIMPLE_ITEMS,
            ),
            True,
        ),
        (
            "ledger",
            dict(
                name="排污许可内部台账",
                class_code="201003",
                provider_id=env,
                summary="",
                open_type="none",
                share_type="none",
                share_basis="《排污许可管理条例》",
                update_cycle="realtime",
                items=SIMPLE_ITEMS,
            ),
            True,
        ),
        (
            "draft",
            dict(
                name="环境执法记录",
                class_code="201004",
                provider_id=env,
                summary="草稿。",
                open_type="unconditional",
                items=SIMPLE_ITEMS,
            ),
            False,
        ),
    ]
    with app.state.db.session() as session:
        catalog.ensure_default_classes(session)
        for key, values, publish in specs:
            resource = catalog.create_resource(session, ResourceIn(**values), admin)
            world.ids[key] = resource.id
            world.codes[key] = resource.code
            if publish:
                for step in ("submit", "confirm", "publish"):
                    catalog.transition(session, resource.id, step, admin)
        from cityos.directory.services import get_organisation

        world.slugs = {"env": get_organisation(session, env).slug}
        world.slugs["water"] = get_organisation(session, water).slug
    db = app.state.db
    datastore.load_records(db, world.ids["air"], AIR_RECORDS, actor=admin)
    rows = [{"name": "甲", "value": 1.5}, {"name": "乙", "value": 2}]
    for key in ("sources", "water", "ledger"):
        datastore.load_records(db, world.ids[key], rows, actor=admin)
    return world
