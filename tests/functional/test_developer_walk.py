"""A developer's walk: register → create a key in the developer centre → call the records API
until the daily quota stops it (429 with Retry-After up to midnight, Beijing time)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityos.exchange import open_keys
from cityos.opendata import quota
from tests.conftest import Actors, csrf_of
from tests.unit.datastore.conftest import AQI_CSV, World, csv_bytes


def test_register_get_a_key_and_call_until_the_quota(
    app: FastAPI, client: TestClient, actors: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(open_keys, "DEFAULT_DAILY_QUOTA", 3)
    eco = actors.org("市生态环境局")
    actors.user("officer_eco", "data_officer", eco)
    world = World(app, client, actors, eco, eco, eco)
    rid = world.resource(open_type="unconditional", name="海口空气质量")
    assert world.upload(rid, csv_bytes(AQI_CSV)).status_code == 201
    client.headers.pop("Authorization", None)
    client.cookies.clear()

    # the developer centre sends a visitor to sign in; from there, to register
    assert client.get("/developer", follow_redirects=False).headers["location"] == (
        "/login?next=/developer"
    )
    login_page = client.get("/login?next=/developer").text
    assert 'href="/register?next=/developer"' in login_page
    register_page = client.get("/register?next=/developer").text
    csrf = register_page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    registered = client.post(
        "/register",
        data={
            "username": "appmaker",
            "display_name": "应用开发者",
            "password": "a-good-password",
            "password2": "a-good-password",
            "next": "/developer",
            "csrf": csrf,
        },
        follow_redirects=False,
    )
    assert registered.status_code == 303
    assert registered.headers["location"] == "/developer"

    centre = client.get("/developer")
    assert centre.status_code == 200
    created = client.post(
        "/developer/keys", data={"label": "空气质量小程序", "csrf": csrf_of(client, "/developer")}
    )
    assert created.status_code == 201
    key = created.text.split('readonly value="', 1)[1].split('"', 1)[0]
    assert key.startswith("cos_") and len(key) == 69

    dataset = client.get("/api/v1/open/datasets", params={"limit": 100}).json()
    code = next(d["code"] for d in dataset["results"] if d["id"] == rid)
    url = f"/api/v1/open/datasets/{code}/records"
    caller = TestClient(app)
    headers = {"Authorization": f"Bearer {key}"}
    for remaining in ("2", "1", "0"):
        answer = caller.get(url, params={"aqi__gte": 50}, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["X-RateLimit-Remaining"] == remaining
    stopped = caller.get(url, params={"aqi__gte": 50}, headers=headers)
    assert stopped.status_code == 429
    assert stopped.json()["code"] == "quota_exceeded"
    wait = int(stopped.headers["Retry-After"])
    assert 0 < wait <= quota.seconds_to_midnight(quota.now_ts()) + 5
    assert "3 / 3" in client.get("/developer").text  # today's use / daily quota
