import pytest
from fastapi.testclient import TestClient

from cityos.directory.codes import is_valid_uscc, make_uscc, uscc_problem
from tests.conftest import Actors, csrf_of, login

# Real-format codes with correct check characters computed by GB 32100.
VALID = ["91350100M000100Y43", "11460100MB00000012"]


def test_uscc_check_character() -> None:
    body = "91460100MA5T00001"
    code = make_uscc(body)
    assert is_valid_uscc(code)
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert "校验码" in (uscc_problem(wrong) or "")
    assert uscc_problem("91460100MA5T0000I1") is not None  # I is not in the alphabet
    assert uscc_problem("123") == "应为 18 位"


@pytest.mark.parametrize("code", VALID)
def test_known_valid_codes(code: str) -> None:
    assert is_valid_uscc(make_uscc(code[:17]))


def test_admin_creates_organisation_and_bad_uscc_is_422(client: TestClient, actors: Actors) -> None:
    actors.user("root", role="admin")
    headers = actors.headers("root")
    good = make_uscc("11460100MB1234567")
    created = client.post(
        "/api/v1/organisations",
        json={"name": "市数据局", "uscc": good, "kind": "government", "district_code": "460108"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["slug"] == good.lower()
    bad = good[:-1] + ("A" if good[-1] != "A" else "B")
    response = client.post(
        "/api/v1/organisations", json={"name": "坏单位", "uscc": bad}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_uscc" and "校验" in response.json()["detail"]
    unknown = client.post(
        "/api/v1/organisations",
        json={"name": "x单位", "uscc": good, "color": "red"},
        headers=headers,
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["code"] == "extra_forbidden"
    dup = client.post(
        "/api/v1/organisations", json={"name": "又一个", "uscc": good}, headers=headers
    )
    assert dup.status_code == 409


def test_only_admin_may_create_organisations(client: TestClient, actors: Actors) -> None:
    org = actors.org()
    actors.user("officer", role="data_officer", org_id=org)
    response = client.post(
        "/api/v1/organisations",
        json={"name": "市新局", "uscc": make_uscc("11460100MB7654321")},
        headers=actors.headers("officer"),
    )
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    anonymous = client.post("/api/v1/organisations", json={"name": "市新局", "uscc": "x" * 18})
    assert anonymous.status_code == 401


def test_console_pages_for_admin(client: TestClient, actors: Actors) -> None:
    actors.org("市水务局")
    actors.user("root", role="admin")
    login(client, "root")
    page = client.get("/console/organisations")
    assert page.status_code == 200 and "市水务局" in page.text
    form = client.post(
        "/console/organisations",
        data={"name": "市新设局", "uscc": "11460100MB0000000", "csrf": csrf_of(client)},
    )
    assert form.status_code == 422 and "统一社会信用代码" in form.text
    users = client.get("/console/users")
    assert users.status_code == 200 and "root" in users.text


def test_console_is_closed_to_citizens(client: TestClient, actors: Actors) -> None:
    actors.user("citizen")
    login(client, "citizen")
    assert client.get("/console/organisations").status_code == 403
    client.cookies.clear()
    anonymous = client.get("/console/organisations", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
