"""Standard interfaces as an anonymous caller: CKAN and DCAT expose only open data; ckanapi
runs datastore_search on an open dataset without a key."""

from __future__ import annotations

import json

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import Actors
from tests.functional.test_ckanapi_cli import Server, ckanapi, server  # noqa: F401
from tests.unit.ckan.world import World, build_world

OPEN = ("air", "sources")
CLOSED = ("water", "ledger", "draft")


def _world(app: FastAPI, actors: Actors) -> World:
    return build_world(app, actors)


def test_ckan_package_search_lists_open_datasets_only(
    app: FastAPI, client: TestClient, actors: Actors
) -> None:
    world = _world(app, actors)
    body = client.get("/api/3/action/package_search", params={"rows": 100}).json()
    names = {d["name"] for d in body["result"]["results"]}
    assert {world.name(k) for k in OPEN} <= names
    assert not names & {world.name(k) for k in CLOSED}


def test_ckan_package_show_of_a_closed_dataset_is_refused(
    app: FastAPI, client: TestClient, actors: Actors
) -> None:
    world = _world(app, actors)
    for key in CLOSED:
        answer = client.get("/api/3/action/package_show", params={"id": world.name(key)})
        assert answer.status_code in (403, 404), key
        assert answer.json()["success"] is False
    assert client.get("/api/3/action/package_show", params={"id": world.name("air")}).json()[
        "success"
    ]


def test_ckan_datastore_search_only_for_open_data(
    app: FastAPI, client: TestClient, actors: Actors
) -> None:
    world = _world(app, actors)
    ok = client.post("/api/3/action/datastore_search", json={"resource_id": world.ids["air"]})
    assert ok.status_code == 200
    assert ok.json()["result"]["total"] == 3
    for key in ("sources", "water", "ledger"):
        refused = client.post(
            "/api/3/action/datastore_search", json={"resource_id": world.ids[key]}
        )
        assert refused.status_code in (403, 404), key
        assert "records" not in json.dumps(refused.json().get("result") or {})


def test_dcat_catalogue_lists_open_datasets_only(
    app: FastAPI, client: TestClient, actors: Actors
) -> None:
    world = _world(app, actors)
    for path in ("/catalog.ttl", "/catalog.jsonld"):
        text = client.get(path).text
        for key in OPEN:
            assert world.codes[key] in text, (path, key)
        for key in CLOSED:
            assert world.codes[key] not in text, (path, key)


def test_ckanapi_datastore_search_without_a_key(server: Server) -> None:  # noqa: F811
    out = ckanapi(server, "action", "datastore_search", f"resource_id={server.world.ids['air']}")
    result = json.loads(out)
    assert result["total"] == 3
    assert {r["station"] for r in result["records"]} == {"海口秀英", "海口龙华", "海口美兰"}
