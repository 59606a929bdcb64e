"""CKAN protocol details: URLs, methods, envelope, errors, tokens, no redirects."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityos.auth.access import declared_access
from cityos.routes import iter_endpoints
from tests.conftest import Actors
from tests.unit.ckan.world import World


def test_both_prefixes_with_and_without_a_trailing_slash_and_no_redirects(
    client: TestClient,
) -> None:
    for path in (
        "/api/3/action/status_show",
        "/api/3/action/status_show/",
        "/api/action/status_show",
        "/api/action/status_show/",
    ):
        for method in ("GET", "POST"):
            response = client.request(method, path, follow_redirects=False)
            assert response.status_code == 200, (method, path, response.status_code)
            body = response.json()
            assert body["success"] is True
            assert body["result"]["ckan_version"] == "2.10.4"
            assert body["help"].endswith("/api/3/action/help_show?name=status_show")


def test_status_show(client: TestClient) -> None:
    result = client.get("/api/3/action/status_show").json()["result"]
    assert result["site_title"] and result["site_url"].startswith("http")
    assert "datastore" in result["extensions"]


def test_unknown_action_is_a_bad_request(client: TestClient) -> None:
    response = client.get("/api/3/action/package_frobnicate", follow_redirects=False)
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False
    assert body["error"]["message"] == "Bad request - Action name not known: package_frobnicate"
    assert client.post("/api/action/x/", json={}).status_code == 400


def test_bad_tokens_are_authorization_errors_in_the_ckan_envelope(client: TestClient) -> None:
    for headers in (
        {"Authorization": "not-a-token"},
        {"X-CKAN-API-Key": "not-a-token"},
        {"Authorization": "Bearer not-a-token"},
    ):
        response = client.get("/api/3/action/package_list", headers=headers)
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/json")
        error = response.json()["error"]
        assert error["__type"] == "Authorization Error"
        assert error["message"].startswith("Access denied")


def test_post_bodies_json_form_and_bad_json(client: TestClient, world: World) -> None:
    air = world.ids["air"]
    as_json = client.post("/api/3/action/package_show", json={"id": air}).json()
    as_form = client.post("/api/3/action/package_show", data={"id": air}).json()
    assert as_json["result"]["id"] == as_form["result"]["id"] == air
    bad = client.post(
        "/api/3/action/package_show",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert bad.status_code == 400 and bad.json()["error"]["message"].startswith("Bad request")
    listed = client.post(
        "/api/3/action/package_show", content=b"[1]", headers={"Content-Type": "application/json"}
    )
    assert listed.status_code == 400


def test_help_show(client: TestClient) -> None:
    body = client.get("/api/3/action/help_show?name=package_search").json()
    assert body["success"] and "fq" in body["result"]
    missing = client.get("/api/3/action/help_show?name=nothing")
    assert missing.status_code == 404


def test_every_ckan_route_declares_public_access(app: FastAPI) -> None:
    ckan = [e for e in iter_endpoints(app) if e.path.startswith(("/api/3/", "/api/action/"))]
    assert len(ckan) == 8  # 2 prefixes x (with / without slash) x (GET, POST)
    for endpoint in ckan:
        labels = {declared_access(d.call) for d in endpoint.dependant.dependencies}
        assert "public" in labels


def test_the_ckan_api_is_documented_once_in_openapi(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert set(paths["/api/3/action/{name}"]) == {"get", "post"}
    assert "/api/action/{name}" not in paths


def test_users_are_for_the_bureau_only(client: TestClient, world: World, actors: Actors) -> None:
    refused = client.get("/api/3/action/user_list")
    assert refused.status_code == 403 and refused.json()["error"]["__type"] == "Authorization Error"
    officer = client.get("/api/3/action/user_list", headers=actors.headers("envoff"))
    assert officer.status_code == 403
    admin = actors.headers("boss")
    users = client.get("/api/3/action/user_list", headers=admin).json()["result"]
    by_name = {u["name"]: u for u in users}
    assert {"boss", "envoff", "waterman", "citizen"} <= set(by_name)
    assert by_name["boss"]["sysadmin"] is True and by_name["envoff"]["sysadmin"] is False
    names = client.get("/api/3/action/user_list?all_fields=false", headers=admin).json()["result"]
    assert "envoff" in names and all(isinstance(n, str) for n in names)
    one = client.get("/api/3/action/user_show?id=envoff", headers=admin).json()["result"]
    assert one["name"] == "envoff"
    me = client.get("/api/3/action/user_show?id=citizen", headers=actors.headers("citizen"))
    assert me.json()["result"]["name"] == "citizen"
    other = client.get("/api/3/action/user_show?id=boss", headers=actors.headers("citizen"))
    assert other.status_code == 403
