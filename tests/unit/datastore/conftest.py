"""A small world for datastore tests: two departments, a social organisation, their people, and
resources written straight through the catalogue models (independent of the catalogue's forms)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityos.auth.principal import Principal
from cityos.catalog.models import Resource, ResourceClass, ResourceItem
from tests.conftest import Actors

AQI_ITEMS: list[tuple[Any, ...]] = [
    # field, Chinese name, type, required, length
    ("station", "监测站", "string", True, 20),
    ("district", "所属区", "string", False, None),
    ("aqi", "空气质量指数", "integer", False, None),
    ("pm25", "PM2.5浓度", "number", False, None),
    ("good", "是否优良", "boolean", False, None),
    ("day", "日期", "date", False, None),
    ("measured_at", "监测时间", "datetime", False, None),
    ("note", "备注", "text", False, None),
]


@dataclass
class World:
    app: FastAPI
    client: TestClient
    actors: Actors
    water: str  # 市水务局 (government)
    eco: str  # 市生态环境局 (government)
    social: str  # a social organisation (not a sharing participant)
    _tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    _n: int = 0

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

    def resource(
        self,
        *,
        provider: str | None = None,
        items: list[tuple[Any, ...]] | None = None,
        key_fields: list[str] | None = None,
        share_type: str = "unconditional",
        open_type: str = "none",
        status: str = "published",
        update_cycle: str = "daily",
        name: str = "空气质量监测日报",
    ) -> str:
        self._n += 1
        with self.db.session() as session:
            if session.get(ResourceClass, "9") is None:
                session.add(ResourceClass(code="9", name="测试", level=1))
                session.flush()
            resource = Resource(
                code=f"9/{self._n:06d}",
                name=name,
                class_code="9",
                provider_id=provider or self.eco,
                share_type=share_type,
                open_type=open_type,
                status=status,
                update_cycle=update_cycle,
                key_fields=list(key_fields or []),
            )
            session.add(resource)
            session.flush()
            for position, (fld, label, data_type, required, length) in enumerate(
                items if items is not None else AQI_ITEMS
            ):
                session.add(
                    ResourceItem(
                        resource_id=resource.id,
                        position=position,
                        field=fld,
                        name=label,
                        data_type=data_type,
                        required=required,
                        length=length,
                    )
                )
            return resource.id

    def add_item(self, resource_id: str, fld: str, label: str, data_type: str) -> None:
        with self.db.session() as session:
            session.add(
                ResourceItem(
                    resource_id=resource_id, position=99, field=fld, name=label, data_type=data_type
                )
            )

    def upload(
        self,
        resource_id: str,
        content: bytes,
        filename: str = "data.csv",
        *,
        username: str = "officer_eco",
        mode: str = "append",
        on_error: str = "reject_rows",
    ) -> Any:
        return self.client.post(
            f"/api/v1/datastore/{resource_id}/upload",
            files={"file": (filename, io.BytesIO(content))},
            data={"mode": mode, "on_error": on_error},
            headers=self.headers(username),
        )

    def records(self, resource_id: str, username: str | None = None, **params: Any) -> Any:
        headers = self.headers(username) if username else {}
        return self.client.get(
            f"/api/v1/datastore/{resource_id}/records", params=params, headers=headers
        )


@pytest.fixture
def world(app: FastAPI, client: TestClient, actors: Actors) -> World:
    water = actors.org("市水务局")
    eco = actors.org("市生态环境局")
    social = actors.org("海口市环保志愿者协会", kind="social")
    actors.user("admin", "admin")
    actors.user("reviewer", "reviewer")
    actors.user("officer_water", "data_officer", water)
    actors.user("officer_eco", "data_officer", eco)
    actors.user("staff_water", "public", water)
    actors.user("volunteer", "public", social)
    actors.user("citizen", "public")
    return World(app, client, actors, water, eco, social)


def csv_bytes(lines: list[str], encoding: str = "utf-8") -> bytes:
    return ("\n".join(lines) + "\n").encode(encoding)


AQI_CSV = [
    "station,district,aqi,pm25,good,day,measured_at,note",
    "海口市监测站,龙华区,45,20.5,是,2024-05-01,2024-05-01 08:00:00,晴",
    "美兰站,美兰区,120,80.1,否,2024/05/02,2024-05-02T09:30:00+08:00,有霾",
    "秀英站,秀英区,60,30,true,2024年5月3日,2024-05-03T00:00:00Z,",
    "琼山站,琼山区,101,55.5,0,2024-05-04,2024-05-04 10:00,江边",
]
