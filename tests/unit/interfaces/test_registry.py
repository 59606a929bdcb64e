"""Registering, confirming, listing and documenting interface services."""

from __future__ import annotations

from typing import Any

from tests.unit.interfaces.conftest import World


def test_register_then_bureau_confirms(world: World) -> None:
    response = world.register(**world.verify_body())
    assert response.status_code == 201, response.text
    service = response.json()
    assert service["code"].startswith("FW-") and service["status"] == "submitted"
    assert service["provider_org_id"] == world.police
    assert service["outputs"] == [{"name": "match", "label": "是否一致", "type": "boolean"}]
    inputs = {i["name"]: i for i in service["inputs"]}
    assert (
        inputs["id_number"]["detector"] == "id_card" and inputs["id_number"]["label"] == "身份证号"
    )
    assert all(i["required"] for i in service["inputs"])  # a verification compares every input

    code = service["code"]
    officer = world.client.post(
        f"/api/v1/interfaces/{code}/confirm", json={}, headers=world.headers("officer_police")
    )
    assert officer.status_code == 403  # confirmation is the bureau's
    reviewer = world.client.post(
        f"/api/v1/interfaces/{code}/confirm", json={}, headers=world.headers("reviewer")
    )
    assert reviewer.status_code == 403
    confirm = world.client.post(
        f"/api/v1/interfaces/{code}/confirm",
        json={"comment": "同意"},
        headers=world.headers("admin"),
    )
    assert confirm.status_code == 200 and confirm.json()["status"] == "confirmed"
    assert confirm.json()["confirmed_at"].endswith("+08:00")
    again = world.client.post(
        f"/api/v1/interfaces/{code}/confirm", json={}, headers=world.headers("admin")
    )
    assert again.status_code == 409 and again.json()["code"] == "service_state"


def test_codes_are_sequential(world: World) -> None:
    first = world.register(**world.verify_body()).json()["code"]
    second = world.register("officer_market", **world.lookup_body()).json()["code"]
    assert (first, second) == ("FW-000001", "FW-000002")


def test_reject_needs_a_reason_and_revision_resubmits(world: World) -> None:
    code = world.register(**world.verify_body()).json()["code"]
    admin = world.headers("admin")
    no_reason = world.client.post(f"/api/v1/interfaces/{code}/reject", json={}, headers=admin)
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"
    rejected = world.client.post(
        f"/api/v1/interfaces/{code}/reject", json={"comment": "请说明用途"}, headers=admin
    )
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["review_comment"] == "请说明用途"
    revised = world.client.put(
        f"/api/v1/interfaces/{code}",
        json=world.verify_body(description="仅用于低保审核"),
        headers=world.headers("officer_police"),
    )
    assert revised.status_code == 200, revised.text
    assert revised.json()["status"] == "submitted" and revised.json()["version"] == 2
    other = world.client.put(
        f"/api/v1/interfaces/{code}",
        json=world.verify_body(),
        headers=world.headers("officer_market"),
    )
    assert other.status_code in (403, 404)


def test_declarations_are_checked_against_the_items(world: World) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        (world.verify_body(inputs=[{"name": "nope"}]), "unknown_item"),
        (world.verify_body(outputs=[{"name": "phone"}]), "verify_outputs"),
        (world.verify_body(operation=None), "operation_required"),
        (world.verify_body(inputs=[{"name": "name", "detector": "dna"}]), "unknown_detector"),
        (world.verify_body(inputs=[{"name": "name"}, {"name": "name"}]), "duplicate_field"),
        (world.verify_body(inputs=[{"name": "name", "pattern": "(["}]), "bad_pattern"),
        (world.lookup_body(outputs=[]), "outputs_required"),
        (world.lookup_body(outputs=[{"name": "secret"}]), "unknown_item"),
        (world.lookup_body(inputs=[{"name": "registered_capital"}]), "input_type"),
        (world.lookup_body(inputs=[{"name": "uscc", "required": False}]), "no_required_input"),
        (world.lookup_body(kind="proxy", operation=None), "upstream_required"),
        (
            world.lookup_body(
                kind="proxy", operation=None, proxy={"base_url": "ftp://x", "path": "/"}
            ),
            "bad_upstream",
        ),
        (
            world.lookup_body(
                kind="proxy",
                operation=None,
                proxy={"base_url": "http://upstream.test", "path": "/e/{nope}"},
            ),
            "bad_upstream",
        ),
    ]
    for body, code in cases:
        username = "officer_police" if body["resource_id"] == world.residents else "officer_market"
        response = world.register(username, **body)
        assert response.status_code == 422, (code, response.text)
        assert response.json()["code"] == code, (code, response.json())


def test_only_the_providers_officers_register(world: World) -> None:
    other = world.register("officer_civil", **world.verify_body())
    assert other.status_code in (403, 404)  # 404 when the resource is not visible, else 403
    assert world.register("staff_civil", **world.verify_body()).status_code == 403
    assert world.register("citizen", **world.verify_body()).status_code == 403
    assert world.register("admin", **world.verify_body()).status_code == 201


def test_registry_visibility(world: World) -> None:
    confirmed = world.confirmed(world.verify_body())
    pending = world.register("officer_market", **world.lookup_body()).json()

    def codes(username: str) -> set[str]:
        response = world.client.get("/api/v1/interfaces", headers=world.headers(username))
        assert response.status_code == 200, response.text
        return {s["code"] for s in response.json()["services"]}

    assert codes("staff_civil") == {confirmed["code"]}  # participants: confirmed only
    assert codes("officer_market") == {confirmed["code"], pending["code"]}  # plus their own
    assert codes("reviewer") == {confirmed["code"], pending["code"]}
    assert codes("citizen") == set()
    hidden = world.client.get(
        f"/api/v1/interfaces/{pending['code']}", headers=world.headers("staff_civil")
    )
    assert hidden.status_code == 404
    anonymous = world.client.get("/api/v1/interfaces")
    assert anonymous.status_code == 401
    search = world.client.get(
        "/api/v1/interfaces", params={"q": "公安"}, headers=world.headers("admin")
    )
    assert [s["code"] for s in search.json()["services"]] == [confirmed["code"]]


def test_proxy_upstream_is_shown_only_to_provider_and_bureau(world: World) -> None:
    body = world.lookup_body(
        kind="proxy",
        operation=None,
        proxy={"base_url": "http://10.1.2.3:8080/api", "path": "/enterprises/{uscc}"},
    )
    service = world.confirmed(body, "officer_market")
    mine = world.client.get(
        f"/api/v1/interfaces/{service['code']}", headers=world.headers("officer_market")
    ).json()
    assert mine["proxy"]["base_url"] == "http://10.1.2.3:8080/api"
    theirs = world.client.get(
        f"/api/v1/interfaces/{service['code']}", headers=world.headers("staff_civil")
    ).json()
    assert "base_url" not in theirs["proxy"] and theirs["proxy"]["timeout_ms"] == 3000


def test_suspend_and_resume(world: World) -> None:
    code = world.confirmed(world.verify_body())["code"]
    path = f"/api/v1/interfaces/{code}"
    market = world.client.post(
        f"{path}/suspend", json={"comment": "x"}, headers=world.headers("officer_market")
    )
    assert market.status_code == 403
    suspended = world.client.post(
        f"{path}/suspend", json={"comment": "系统维护"}, headers=world.headers("officer_police")
    )
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    own = world.client.post(f"{path}/resume", json={}, headers=world.headers("officer_police"))
    assert own.status_code == 403
    resumed = world.client.post(f"{path}/resume", json={}, headers=world.headers("admin"))
    assert resumed.json()["status"] == "confirmed"


def _check_document(doc: dict[str, Any]) -> None:
    assert doc["openapi"].startswith("3.1")
    assert {"title", "version"} <= set(doc["info"])
    schemas = doc["components"]["schemas"]
    assert "Problem" in schemas
    assert doc["components"]["securitySchemes"]["authorizationCode"]["scheme"] == "bearer"
    for path, item in doc["paths"].items():
        assert path.startswith("/api/v1/interfaces/FW-") and path.endswith("/call")
        operation = item["post"]
        assert operation["operationId"] and operation["security"]
        for ref_holder in (
            operation["requestBody"]["content"]["application/json"]["schema"],
            operation["responses"]["200"]["content"]["application/json"]["schema"],
        ):
            name = ref_holder["$ref"].removeprefix("#/components/schemas/")
            assert name in schemas and schemas[name]["type"] == "object"
        for status in ("401", "403", "422"):
            assert status in operation["responses"]


def test_openapi_documents(world: World) -> None:
    verify = world.confirmed(world.verify_body())
    lookup = world.confirmed(world.lookup_body(), "officer_market")
    doc = world.client.get(
        f"/api/v1/interfaces/{verify['code']}/openapi.json", headers=world.headers("staff_civil")
    ).json()
    _check_document(doc)
    schemas = doc["components"]["schemas"]
    inputs = schemas["FW_000001_Input"]
    assert inputs["required"] == ["id_number", "name"] and inputs["additionalProperties"] is False
    assert inputs["properties"]["id_number"]["x-detector"] == "id_card"
    assert schemas["FW_000001_Output"]["properties"] == {
        "match": {"type": "boolean", "title": "是否一致"}
    }
    registry = world.client.get(
        "/api/v1/interfaces/openapi.json", headers=world.headers("staff_civil")
    ).json()
    _check_document(registry)
    assert set(registry["paths"]) == {
        f"/api/v1/interfaces/{verify['code']}/call",
        f"/api/v1/interfaces/{lookup['code']}/call",
    }
    out = registry["components"]["schemas"]["FW_000002_Output"]["properties"]
    assert set(out) == {"found", "name", "status"}
    assert out["status"]["type"] == ["string", "null"]
