"""The demo showcase: four approved entries on open datasets and one waiting; safe to repeat."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cityos.demo.showcase import ENTRIES, ensure_showcase
from cityos.showcase import services
from cityos.showcase.models import ShowcaseApp
from tests.unit.showcase.conftest import World


def test_demo_has_approved_apps_on_open_datasets_and_one_pending(demo_app: FastAPI) -> None:
    with demo_app.state.db.session() as session:
        approved = services.list_public(session, limit=100)[1]
        pending = services.review_queue(session)
        used = services.datasets_of(session, [a.id for a in approved])
    titles = {a.title for a in approved}
    assert {"椰城空气 — 空气质量小程序", "南渡江水情看板", "海口避难场所地图"} <= titles
    assert len(approved) == 4
    assert [a.title for a in pending] == ["海口停车难易指数"]
    air = next(a for a in approved if a.title.startswith("椰城空气"))
    assert {r.name for r in used[air.id]} == {"海口市空气质量监测数据", "城市空气质量日报"}


def test_demo_showcase_pages_render(demo_app: FastAPI) -> None:
    with TestClient(demo_app) as client:
        page = client.get("/showcase")
        assert page.status_code == 200 and "南渡江水情看板" in page.text
        assert "海口停车难易指数" not in page.text
        listed = client.get("/api/v1/showcase?dataset=" + _code(demo_app, "应急避难场所"))
        assert [a["title"] for a in listed.json()["apps"]] == ["海口避难场所地图"]


def _code(app: FastAPI, name: str) -> str:
    with app.state.db.session() as session:
        return next(r.code for r in services.dataset_choices(session) if r.name == name)


def test_ensure_showcase_adds_nothing_the_second_time(world: World) -> None:
    keys = {k for e in ENTRIES for k in e.datasets}
    resources = {k: (world.ids["9-000001"], "published") for k in keys}
    principals = {"developer": world.principal("developer"), "admin": world.principal("admin")}
    assert ensure_showcase(world.db, resources, principals) == len(ENTRIES)
    assert ensure_showcase(world.db, resources, principals) == 0
    with world.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ShowcaseApp)) == len(ENTRIES)
        assert len(services.review_queue(session)) == 1
