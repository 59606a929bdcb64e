"""Organizations, groups, tags and the DataStore actions."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Actors
from tests.unit.ckan.world import World

API = "/api/3/action"


def result(response: Any) -> Any:
    assert response.status_code == 200, response.text
    assert response.json()["success"] is True
    return response.json()["result"]


def test_organizations(client: TestClient, world: World, actors: Actors) -> None:
    env, water = world.slugs["env"], world.slugs["water"]
    assert set(result(client.get(f"{API}/organization_list"))) == {env, water}
    full = result(client.get(f"{API}/organization_list?all_fields=true"))
    counts = {o["name"]: o["package_count"] for o in full}
    assert counts == {env: 2, water: 0}  # anonymous: the open published ones
    assert all(o["is_organization"] and o["title"] for o in full)
    dept = result(
        client.get(f"{API}/organization_list?all_fields=true", headers=actors.headers("waterman"))
    )
    assert {o["name"]: o["package_count"] for o in dept} == {env: 3, water: 1}

    shown = result(client.get(f"{API}/organization_show?id={env}&include_datasets=true"))
    assert shown["title"] == "市生态环境局" and shown["package_count"] == 2
    assert {p["name"] for p in shown["packages"]} == {world.name("air"), world.name("sources")}
    by_id = result(client.get(f"{API}/organization_show?id={world.env}"))
    assert by_id["name"] == env and "packages" not in by_id
    missing = client.get(f"{API}/organization_show?id=nobody")
    assert missing.status_code == 404 and missing.json()["error"]["__type"] == "Not Found Error"


def test_groups_are_the_top_level_classes(client: TestClient, world: World) -> None:
    names = result(client.get(f"{API}/group_list"))
    assert {"class-1", "class-2", "class-3"} <= set(names)
    full = {g["name"]: g for g in result(client.get(f"{API}/group_list?all_fields=true"))}
    assert full["class-2"]["title"] == "主题信息资源" and full["class-2"]["package_count"] == 2
    assert full["class-1"]["package_count"] == 0
    group = result(client.get(f"{API}/group_show?id=class-2&include_datasets=true"))
    assert {p["name"] for p in group["packages"]} == {world.name("air"), world.name("sources")}
    assert client.get(f"{API}/group_show?id=class-201").status_code == 404
    assert client.get(f"{API}/group_show?id=nothing").status_code == 404


def test_tag_list(client: TestClient, world: World, actors: Actors) -> None:
    assert result(client.get(f"{API}/tag_list")) == sorted(["空气", "环境监测", "污染源"])
    assert result(client.get(f"{API}/tag_list?query=环境")) == ["环境监测"]
    dept = result(client.get(f"{API}/tag_list", headers=actors.headers("waterman")))
    assert "水质" in dept
    full = result(client.get(f"{API}/tag_list?all_fields=true"))
    assert {"name", "display_name", "id"} <= set(full[0])


def test_datastore_search(client: TestClient, world: World) -> None:
    air = world.ids["air"]
    data = result(client.get(f"{API}/datastore_search?resource_id={air}"))
    assert data["resource_id"] == air and data["total"] == 3
    ids = [f["id"] for f in data["fields"]]
    assert {"station", "aqi", "measured_on"} <= set(ids)
    types = {f["id"]: f["type"] for f in data["fields"]}
    assert types["aqi"] == "int" and types["station"] == "text" and types["measured_on"] == "date"
    assert {r["station"] for r in data["records"]} == {"海口秀英", "海口龙华", "海口美兰"}
    assert data["_links"]["start"].startswith("/api/3/action/datastore_search")

    filtered = result(
        client.post(
            f"{API}/datastore_search",
            json={"resource_id": air, "filters": {"measured_on": "2024-05-01"}, "sort": "aqi desc"},
        )
    )
    assert [r["aqi"] for r in filtered["records"]] == [52, 35] and filtered["total"] == 2
    as_string = result(
        client.get(
            f"{API}/datastore_search",
            params={
                "resource_id": air,
                "filters": json.dumps({"station": "海口美兰"}),
                "fields": "station,aqi",
            },
        )
    )
    assert as_string["records"] == [{"station": "海口美兰", "aqi": 48}]
    assert [f["id"] for f in as_string["fields"]] == ["station", "aqi"]
    searched = result(client.get(f"{API}/datastore_search?resource_id={air}&q=龙华"))
    assert [r["station"] for r in searched["records"]] == ["海口龙华"]
    page = result(
        client.get(
            f"{API}/datastore_search?resource_id={air}&limit=1&offset=1&sort=aqi&include_total=false"
        )
    )
    assert [r["aqi"] for r in page["records"]] == [48] and "total" not in page
    lists = result(
        client.get(
            f'{API}/datastore_search?resource_id={air}&fields=["aqi"]&records_format=lists&sort=aqi'
        )
    )
    assert lists["records"] == [[35], [48], [52]]


def test_datastore_search_errors(client: TestClient, world: World) -> None:
    air = world.ids["air"]
    unknown = client.get(f'{API}/datastore_search?resource_id={air}&filters={{"colour": 1}}')
    assert unknown.status_code == 409 and unknown.json()["error"]["__type"] == "Validation Error"
    bad_json = client.get(f"{API}/datastore_search?resource_id={air}&filters=[oops")
    assert bad_json.status_code == 409
    missing = client.get(f"{API}/datastore_search")
    assert missing.status_code == 409 and "resource_id" in missing.json()["error"]


def test_datastore_search_follows_the_data_policy(
    client: TestClient, world: World, actors: Actors
) -> None:
    def status(key: str, username: str | None = None) -> int:
        headers = actors.headers(username) if username else {}
        url = f"{API}/datastore_search?resource_id={world.ids[key]}"
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            kinds = {403: "Authorization Error", 404: "Not Found Error"}
            assert response.json()["error"]["__type"] == kinds[response.status_code]
        return response.status_code

    assert status("air") == 200
    assert status("sources") == 403  # metadata open on conditions: data needs an agreement
    assert status("water") == 404  # not open: anonymous callers do not even see it
    assert status("sources", "waterman") == 200  # shared unconditionally with departments
    assert status("water", "waterman") == 200
    assert status("ledger", "waterman") == 403  # not shared: only its provider
    assert status("ledger", "envoff") == 200
    assert status("draft", "waterman") == 404
    # the resource's id is the package's resource id: ckanapi's path from package to records
    pkg = client.get(f"{API}/package_show?id={world.name('air')}").json()["result"]
    rid = pkg["resources"][0]["id"]
    assert client.get(f"{API}/datastore_search?resource_id={rid}").json()["result"]["total"] == 3
