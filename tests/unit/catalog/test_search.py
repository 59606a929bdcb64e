"""Visibility, Chinese search and facets through the API (and the services behind it)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.catalog.conftest import World


def _names(world: World, username: str | None = None, **params: Any) -> list[str]:
    headers = world.headers(username) if username else {}
    response = world.client.get("/api/v1/catalog/resources", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return sorted(r["name"] for r in response.json()["results"])


@pytest.fixture
def catalogue(world: World) -> dict[str, dict[str, Any]]:
    """Published open, published shared-only, and draft resources of two departments."""
    air = world.create(
        "officer_eco",
        name="空气质量监测数据",
        class_code="201001",
        provider_id=world.eco,
        summary="全市空气自动监测站的小时浓度数据，含 PM2.5、臭氧。",
        keywords=["AQI", "大气"],
        districts=["460100"],
        items=[{"field": "aqi", "name": "空气质量指数", "data_type": "integer"}],
        key_fields=["aqi"],
        update_cycle="daily",
    )
    world.publish(air["id"], "officer_eco")
    river = world.create()  # 南渡江水位, water, open
    world.publish(river["id"])
    wells = world.create(
        name="水利工程安全监测",
        class_code="202003",
        open_type="none",
        share_type="conditional",
        share_condition="仅供防汛部门使用",
        keywords=["水利"],
    )
    world.publish(wells["id"])
    draft = world.create(name="供水管网压力", class_code="202002", keywords=["供水"])
    return {"air": air, "river": river, "wells": wells, "draft": draft}


def test_visibility_matrix(world: World, catalogue: dict[str, dict[str, Any]]) -> None:
    everything = ["供水管网压力", "南渡江水位", "水利工程安全监测", "空气质量监测数据"]
    # anonymous and the public: published and open only
    assert _names(world) == ["南渡江水位", "空气质量监测数据"]
    assert _names(world, "citizen") == ["南渡江水位", "空气质量监测数据"]
    assert _names(world, "volunteer") == ["南渡江水位", "空气质量监测数据"]  # social org
    # another department: every published resource, not someone else's draft
    assert _names(world, "staff_eco") == ["南渡江水位", "水利工程安全监测", "空气质量监测数据"]
    # the provider: its drafts too
    assert _names(world, "officer_water") == everything
    # the bureau and reviewers: all
    assert _names(world, "admin") == everything
    assert _names(world, "reviewer") == everything

    draft, wells = catalogue["draft"], catalogue["wells"]
    for ident in (draft["id"], draft["code"]):
        assert world.client.get(f"/api/v1/catalog/resources/{ident}").status_code == 404
        other = world.client.get(
            f"/api/v1/catalog/resources/{ident}", headers=world.headers("officer_eco")
        )
        assert other.status_code == 404
        assert other.json()["code"] == "not_found"
        own = world.client.get(
            f"/api/v1/catalog/resources/{ident}", headers=world.headers("officer_water")
        )
        assert own.status_code == 200
    assert world.client.get(f"/api/v1/catalog/resources/{draft['id']}/versions").status_code == 404
    assert world.client.get(f"/api/v1/catalog/resources/{wells['code']}").status_code == 404
    shared = world.client.get(
        f"/api/v1/catalog/resources/{wells['code']}", headers=world.headers("staff_eco")
    )
    assert shared.status_code == 200
    assert world.client.get("/catalog/" + draft["code"]).status_code == 404


def test_chinese_search(world: World, catalogue: dict[str, dict[str, Any]]) -> None:
    assert _names(world, q="空气") == ["空气质量监测数据"]
    assert _names(world, q="水位") == ["南渡江水位"]
    assert _names(world, q="南渡江 水位") == ["南渡江水位"]
    assert _names(world, q="空气 水位") == []  # every term must match
    assert _names(world, "admin", q="监测") == ["水利工程安全监测", "空气质量监测数据"]
    # a single character falls back to a substring match
    assert _names(world, "admin", q="压") == ["供水管网压力"]
    # ASCII: keywords, codes, prefixes, full-width input
    assert _names(world, q="aqi") == ["空气质量监测数据"]
    assert _names(world, q="ＡＱＩ") == ["空气质量监测数据"]
    assert _names(world, q="hydro") == ["南渡江水位"]
    assert _names(world, q=catalogue["river"]["code"]) == ["南渡江水位"]
    assert _names(world, q="pm2.5") == ["空气质量监测数据"]
    # item names are indexed
    assert _names(world, q="空气质量指数") == ["空气质量监测数据"]
    # a word absent from the index falls back to a substring match
    assert _names(world, "admin", q="管网压") == ["供水管网压力"]
    assert _names(world, q="地铁") == []


def test_relevance_prefers_the_name(world: World, catalogue: dict[str, dict[str, Any]]) -> None:
    world.create(name="防汛物资储备", summary="含各水位站点附近的防汛物资。", class_code="202003")
    response = world.client.get(
        "/api/v1/catalog/resources", params={"q": "水位"}, headers=world.headers("admin")
    )
    names = [r["name"] for r in response.json()["results"]]
    assert names[0] == "南渡江水位" and "防汛物资储备" in names


def test_facets_and_filters(world: World, catalogue: dict[str, dict[str, Any]]) -> None:
    headers = world.headers("admin")
    body = world.client.get("/api/v1/catalog/resources", headers=headers).json()
    assert body["count"] == 4
    facets = {k: {f["value"]: f["count"] for f in v} for k, v in body["facets"].items()}
    assert facets["provider"] == {world.water: 3, world.eco: 1}
    assert facets["class"] == {"201": 1, "202": 3}
    assert facets["share_type"] == {"unconditional": 3, "conditional": 1}
    assert facets["status"] == {"published": 3, "draft": 1}
    assert facets["district"] == {"460106": 3, "460100": 1}
    assert facets["keyword"]["水位"] == 1 and facets["keyword"]["水利"] == 1
    labels = {f["value"]: f["label"] for f in body["facets"]["share_type"]}
    assert labels["conditional"] == "有条件共享"
    assert {f["value"]: f["label"] for f in body["facets"]["class"]}["202"] == "水务"

    filtered = world.client.get(
        "/api/v1/catalog/resources",
        params={"provider": world.water, "status": "published"},
        headers=headers,
    ).json()
    assert filtered["count"] == 2
    assert {f["value"]: f["count"] for f in filtered["facets"]["class"]} == {"202": 2}
    by_class = world.client.get(
        "/api/v1/catalog/resources", params={"class": "2020"}, headers=headers
    ).json()
    assert by_class["count"] == 3
    either = world.client.get(
        "/api/v1/catalog/resources",
        params=[("share_type", "conditional"), ("district", "460100"), ("district", "460106")],
        headers=headers,
    ).json()
    assert [r["name"] for r in either["results"]] == ["水利工程安全监测"]
    keyword = world.client.get(
        "/api/v1/catalog/resources", params={"keyword": "AQI", "q": "监测"}
    ).json()
    assert keyword["count"] == 1
    assert keyword["facets"]["keyword"][0]["value"] in ("AQI", "大气")


def test_invalid_filters_are_422(world: World) -> None:
    for params, field in (
        ({"share_type": "bogus"}, "share_type"),
        ({"status": "archived"}, "status"),
        ({"district": "999999"}, "district"),
        ({"class": "abc"}, "class"),
        ({"sort": "random"}, "sort"),
    ):
        response = world.client.get("/api/v1/catalog/resources", params=params)
        assert response.status_code == 422, params
        problem = response.json()
        assert problem["code"] in ("invalid_filter", "invalid_sort")
        assert problem["errors"][0]["field"] == field
    assert world.client.get("/api/v1/catalog/resources", params={"limit": 101}).status_code == 422


def test_sorting_and_paging(world: World, catalogue: dict[str, dict[str, Any]]) -> None:
    headers = world.headers("admin")

    def codes(**params: Any) -> list[str]:
        response = world.client.get("/api/v1/catalog/resources", params=params, headers=headers)
        return [r["code"] for r in response.json()["results"]]

    assert codes(sort="code") == sorted(codes(sort="code"))
    first, second = codes(sort="code", limit=2), codes(sort="code", limit=2, offset=2)
    assert first + second == codes(sort="code")
    assert codes(sort="updated")[0] == catalogue["draft"]["code"]
    assert len(codes(sort="name")) == 4


def test_classes_endpoint_and_idempotent_seed(world: World) -> None:
    classes = world.client.get("/api/v1/catalog/classes").json()
    by_code = {c["code"]: c for c in classes}
    assert by_code["2"]["name"] == "主题信息资源"
    assert by_code["201"]["name"] == "生态环境" and by_code["201"]["parent_code"] == "2"
    assert by_code["202"]["name_en"] == "Water affairs"
    assert by_code["201001"]["level"] == 3
    departments = {c["name"] for c in classes if c["parent_code"] == "3"}
    assert {"市水务局", "市生态环境局"} <= departments
    assert "海口市环保志愿者协会" not in departments
    from cityos.catalog.services import ensure_default_classes

    with world.app.state.db.session() as session:
        assert ensure_default_classes(session) == 0


def test_code_allocation_retries_after_a_concurrent_insert(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two creates computing the same next code: the loser retries with the next number."""
    from cityos.catalog import services

    first = world.create()
    real = services._next_code
    calls = {"n": 0}

    def stale(session: Any, class_code: str) -> str:
        calls["n"] += 1
        return first["code"] if calls["n"] == 1 else real(session, class_code)

    monkeypatch.setattr(services, "_next_code", stale)
    second = world.create(name="南渡江流量")
    assert second["code"] == "202001-000002" and calls["n"] == 2


def test_cached_answers_follow_every_write(
    world: World, catalogue: dict[str, dict[str, Any]]
) -> None:
    from cityos.auth import services as auth
    from cityos.catalog import services
    from cityos.catalog.schemas import ResourceIn
    from cityos.core.db import Database

    assert _names(world, q="水位") == ["南渡江水位"]
    assert _names(world, q="水位") == ["南渡江水位"]  # answered from the cache
    # a write by another process (another engine on the same database)
    app = world.app
    other = Database(app.state.settings.resolved_database_url)
    try:
        with other.session() as session:
            user = auth.get_user_by_name(session, "admin")
            assert user is not None
            admin = auth.principal_for(session, user)
            services.transition(session, catalogue["river"]["id"], "withdraw", admin)
    finally:
        other.dispose()
    assert _names(world, q="水位") == []
    # a transaction that writes then rolls back leaves no trace in the cache
    with pytest.raises(RuntimeError), app.state.db.session() as session:
        data = ResourceIn(name="临时水位资源", class_code="202", provider_id=world.water)
        services.create_resource(session, data, admin)
        found = services.search(session, admin, q="临时")
        assert [r.name for r in found.results] == ["临时水位资源"]
        raise RuntimeError("roll back")
    with app.state.db.session() as session:
        assert services.search(session, admin, q="临时").total == 0


def test_statistics_refresh_runs_inside_a_transaction(world: World) -> None:
    from cityos.catalog.cache import generation, refresh_statistics

    world.create()
    app = world.app
    with app.state.db.session() as session:
        refresh_statistics(session)  # ANALYZE on PostgreSQL, nothing on SQLite
        assert generation(session) == 1
