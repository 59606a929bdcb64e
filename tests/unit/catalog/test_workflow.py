"""Cataloguing through the API: codes, validation, the confirmation workflow and versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.unit.catalog.conftest import World


def test_create_generates_codes_within_the_class(world: World) -> None:
    first = world.create()
    second = world.create(name="南渡江流量")
    other = world.create(name="供水管网", class_code="202002")
    assert first["code"] == "202001-000001"
    assert second["code"] == "202001-000002"
    assert other["code"] == "202002-000001"
    assert first["status"] == "draft" and first["version"] == 1
    assert first["provider_name"] == "市水务局"
    assert [i["field"] for i in first["items"]] == ["station", "level_m"]
    assert first["created_at"].endswith("+08:00")


def test_create_writes_a_full_snapshot_version(world: World) -> None:
    created = world.create()
    response = world.client.get(
        f"/api/v1/catalog/resources/{created['id']}/versions", headers=world.headers("admin")
    )
    assert response.status_code == 200
    (version,) = response.json()
    assert version["action"] == "create" and version["version"] == 1
    assert version["actor_name"] == "officer_water"
    assert version["changes"]["name"] == "南渡江水位"
    assert version["changes"]["code"] == created["code"]
    assert [i["field"] for i in version["changes"]["items"]] == ["station", "level_m"]


def test_not_shared_needs_a_legal_basis(world: World) -> None:
    body = {
        "name": "水利工程安全监测",
        "class_code": "202",
        "provider_id": world.water,
        "share_type": "none",
    }
    response = world.client.post(
        "/api/v1/catalog/resources", json=body, headers=world.headers("officer_water")
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "share_basis_required"
    assert problem["errors"][0]["field"] == "share_basis"
    assert "法律" in problem["detail"] or "依据" in problem["detail"]
    created = world.create(
        **body, share_basis="《中华人民共和国保守国家秘密法》", items=[], key_fields=[]
    )
    assert created["share_type"] == "none"


def test_unknown_and_invalid_fields_are_refused(world: World) -> None:
    headers = world.headers("officer_water")
    base = {"name": "测试资源", "class_code": "202", "provider_id": world.water}
    cases = [
        ({**base, "colour": "blue"}, "validation_error"),
        ({**base, "items": [{"field": "a", "name": "甲", "colour": "x"}]}, "validation_error"),
        ({**base, "items": [{"field": "Bad-Name", "name": "甲"}]}, "invalid_item_field"),
        (
            {**base, "items": [{"field": "a", "name": "甲"}, {"field": "a", "name": "乙"}]},
            "duplicate_item_field",
        ),
        (
            {**base, "items": [{"field": "a", "name": "甲"}], "key_fields": ["b"]},
            "unknown_key_field",
        ),
        ({**base, "districts": ["110101"]}, "invalid_district"),
        ({**base, "share_type": "sometimes"}, "invalid_share_type"),
        ({**base, "class_code": "999"}, "unknown_class"),
        ({**base, "provider_id": "nope"}, "unknown_provider"),
    ]
    for body, code in cases:
        response = world.client.post("/api/v1/catalog/resources", json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["code"] == code, (body, response.json())


def test_a_department_cannot_catalogue_for_another(world: World) -> None:
    body = {"name": "空气质量", "class_code": "201001", "provider_id": world.eco}
    response = world.client.post(
        "/api/v1/catalog/resources", json=body, headers=world.headers("officer_water")
    )
    assert response.status_code == 403
    citizen = world.client.post(
        "/api/v1/catalog/resources", json=body, headers=world.headers("citizen")
    )
    assert citizen.status_code == 403


def test_lifecycle_legal_transitions(world: World) -> None:
    created = world.create()
    rid = created["id"]
    assert world.act(rid, "submit", "officer_water").json()["status"] == "submitted"
    confirmed = world.act(rid, "confirm", "admin", comment="符合编目要求")
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["review_comment"] == "符合编目要求"
    published = world.act(rid, "publish", "officer_water").json()
    assert published["status"] == "published"
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert published["published_on"] == today
    withdrawn = world.act(rid, "withdraw", "admin").json()
    assert withdrawn["status"] == "confirmed"
    versions = world.client.get(
        f"/api/v1/catalog/resources/{rid}/versions", headers=world.headers("officer_water")
    ).json()
    assert [v["action"] for v in versions] == ["withdraw", "publish", "confirm", "submit", "create"]
    assert versions[0]["changes"]["status"] == ["published", "confirmed"]
    assert versions[0]["actor_name"] == "admin"
    assert versions[2]["comment"] == "符合编目要求"


def test_rejection_needs_a_comment_and_allows_resubmission(world: World) -> None:
    rid = world.create()["id"]
    world.act(rid, "submit", "officer_water")
    response = world.act(rid, "reject", "admin")
    assert response.status_code == 422
    assert response.json()["code"] == "comment_required"
    rejected = world.act(rid, "reject", "admin", comment="摘要过于简单")
    assert rejected.json()["status"] == "rejected"
    assert world.act(rid, "submit", "officer_water").json()["status"] == "submitted"


def test_illegal_transitions_are_409_and_name_the_states(world: World) -> None:
    rid = world.create()["id"]
    response = world.act(rid, "publish", "officer_water")
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "illegal_transition"
    assert problem["errors"][0]["from"] == "draft" and problem["errors"][0]["to"] == "published"
    assert "draft" in problem["detail"] and "published" in problem["detail"]
    assert "草稿" in problem["detail"]
    assert world.act(rid, "confirm", "admin").status_code == 409
    assert world.act(rid, "withdraw", "admin").status_code == 409
    world.act(rid, "submit", "officer_water")
    assert world.act(rid, "submit", "officer_water").status_code == 409
    assert world.act(rid, "fly", "officer_water").status_code == 404


def test_only_the_bureau_confirms(world: World) -> None:
    rid = world.create()["id"]
    world.act(rid, "submit", "officer_water")
    assert world.act(rid, "confirm", "officer_water").status_code == 403
    assert world.act(rid, "reject", "officer_water", comment="x").status_code == 403
    # another department cannot even see the submitted resource
    assert world.act(rid, "confirm", "officer_eco").status_code == 404
    assert world.act(rid, "confirm", "admin").status_code == 200
    # nor publish it (still unpublished: invisible to them)
    assert world.act(rid, "publish", "officer_eco").status_code == 404
    assert world.act(rid, "publish", "officer_water").status_code == 200
    assert world.act(rid, "withdraw", "officer_eco").status_code == 403


def _latest_version(world: World, rid: str) -> dict[str, Any]:
    url = f"/api/v1/catalog/resources/{rid}/versions"
    return dict(world.client.get(url, headers=world.headers("admin")).json()[0])


def test_update_records_only_what_changed(world: World) -> None:
    created = world.create()
    rid = created["id"]
    headers = world.headers("officer_water")
    patch = {"name": "南渡江水位监测", "keywords": ["水位", "Hydrology"], "update_cycle": "daily"}
    response = world.client.patch(f"/api/v1/catalog/resources/{rid}", json=patch, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    latest = _latest_version(world, rid)
    assert latest["action"] == "update" and latest["version"] == 2
    assert latest["changes"] == {
        "name": ["南渡江水位", "南渡江水位监测"],
        "update_cycle": ["realtime", "daily"],
    }
    # the same values again: nothing changes, no version
    again = world.client.patch(f"/api/v1/catalog/resources/{rid}", json=patch, headers=headers)
    assert again.json()["version"] == 2
    # items are compared as lists
    items = [*created["items"][:1], {"field": "flow", "name": "流量", "data_type": "number"}]
    items = [{k: v for k, v in i.items() if k != "position"} for i in items]
    changed = world.client.patch(
        f"/api/v1/catalog/resources/{rid}", json={"items": items}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert [i["field"] for i in changed.json()["items"]] == ["station", "flow"]
    latest = _latest_version(world, rid)
    assert list(latest["changes"]) == ["items"]
    old, new = latest["changes"]["items"]
    assert [i["field"] for i in old] == ["station", "level_m"]
    assert [i["field"] for i in new] == ["station", "flow"]


def test_editing_a_published_resource_keeps_it_published(world: World) -> None:
    rid = world.create()["id"]
    world.publish(rid)
    response = world.client.patch(
        f"/api/v1/catalog/resources/{rid}",
        json={"summary": "新的摘要"},
        headers=world.headers("officer_water"),
    )
    assert response.json()["status"] == "published"
    assert response.json()["version"] == 2


def test_another_department_cannot_edit(world: World) -> None:
    rid = world.create()["id"]
    world.publish(rid)
    response = world.client.patch(
        f"/api/v1/catalog/resources/{rid}",
        json={"name": "改名"},
        headers=world.headers("officer_eco"),
    )
    assert response.status_code == 403


def test_events_are_published_after_commit(world: World) -> None:
    seen: list[dict[str, str]] = []
    world.app.state.bus.subscribe(
        "catalog.resource.changed", lambda event: seen.append(event.payload)
    )
    rid = world.create()["id"]
    world.act(rid, "submit", "officer_water")
    world.act(rid, "reject", "admin")  # refused: no event
    assert [(e["resource_id"], e["action"]) for e in seen] == [(rid, "create"), (rid, "submit")]


def test_class_change_renumbers_a_draft_and_is_locked_after_submission(world: World) -> None:
    created = world.create()
    rid = created["id"]
    headers = world.headers("officer_water")
    moved = world.client.patch(
        f"/api/v1/catalog/resources/{rid}", json={"class_code": "202003"}, headers=headers
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["code"] == "202003-000001"
    assert _latest_version(world, rid)["changes"]["code"] == [created["code"], "202003-000001"]
    world.act(rid, "submit", "officer_water")
    locked = world.client.patch(
        f"/api/v1/catalog/resources/{rid}", json={"class_code": "202001"}, headers=headers
    )
    assert locked.status_code == 409 and locked.json()["code"] == "class_locked"


def test_jieba_is_loaded_once_with_its_cache_outside_the_package() -> None:
    import tempfile
    from pathlib import Path

    import cityos
    from cityos.catalog import search

    first = search.tokenizer()
    assert search.tokenizer() is first
    cache_dir = Path(first.tmp_dir).resolve()
    assert cache_dir.is_relative_to(Path(tempfile.gettempdir()).resolve())
    assert not cache_dir.is_relative_to(Path(cityos.__file__).resolve().parent)
    assert search.index_tokens("空气质量监测数据") >= {"空气", "空气质量", "监测", "数据"}
    assert search.query_terms("南渡江水位，PM2.5！") == ["南渡江", "水位", "pm2.5"]
