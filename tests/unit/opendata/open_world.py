"""An open-data world for H2's tests: open datasets with records, keys (fixture ``ow``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityos.exchange import open_keys
from tests.conftest import Actors
from tests.unit.datastore.conftest import AQI_CSV, World, csv_bytes

STATION_ITEMS: list[tuple[Any, ...]] = [
    ("station", "监测站", "string", True, 20),
    ("district", "所属区", "string", False, None),
    ("aqi", "空气质量指数", "integer", False, None),
    ("longitude", "经度", "number", False, None),
    ("latitude", "纬度", "number", False, None),
]
STATION_CSV = [
    "station,district,aqi,longitude,latitude",
    "海口市监测站,龙华区,45,110.33,20.03",
    "美兰站,美兰区,120,110.36,20.03",
    "秀英站,秀英区,60,,",
]


@dataclass
class OpenWorld:
    w: World
    open_id: str  # 无条件开放 with AQI records
    cond_id: str  # 有条件开放 with AQI records
    closed_id: str  # published, not open
    stations_id: str  # 无条件开放 with coordinates

    @property
    def client(self) -> TestClient:
        return self.w.client

    def code(self, rid: str) -> str:
        from cityos.catalog.models import Resource

        with self.w.db.session() as session:
            resource = session.get(Resource, rid)
            assert resource is not None
            return resource.code

    def key(self, username: str, scope: str | None = None, daily_quota: int | None = None) -> str:
        principal = self.w.principal(username)
        assert principal.user_id
        with self.w.db.session() as session:
            _row, plaintext = open_keys.issue_open_key(
                session,
                user_id=principal.user_id,
                label="test",
                actor=principal,
                scope_resource_id=scope,
                daily_quota=daily_quota,
            )
        return plaintext

    def records(self, rid: str, key: str | None = None, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return self.client.get(
            f"/api/v1/open/datasets/{self.code(rid)}/records", params=params, headers=headers
        )


@pytest.fixture
def ow(app: FastAPI, client: TestClient, actors: Actors) -> OpenWorld:
    eco = actors.org("市生态环境局")
    water = actors.org("市水务局")
    actors.user("officer_eco", "data_officer", eco)
    actors.user("citizen", "public")
    actors.user("developer", "public")
    actors.user("admin", "admin")
    w = World(app, client, actors, water, eco, actors.org("志愿者协会", kind="social"))
    open_id = w.resource(open_type="unconditional", name="海口空气质量")
    cond_id = w.resource(open_type="conditional", name="空气质量（有条件）")
    closed_id = w.resource(open_type="none", name="内部空气质量")
    stations_id = w.resource(open_type="unconditional", items=STATION_ITEMS, name="监测站点")
    for rid in (open_id, cond_id, closed_id):
        assert w.upload(rid, csv_bytes(AQI_CSV)).status_code == 201
    assert w.upload(stations_id, csv_bytes(STATION_CSV)).status_code == 201
    return OpenWorld(w, open_id, cond_id, closed_id, stations_id)
