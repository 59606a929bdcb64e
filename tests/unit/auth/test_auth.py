from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from cityos.auth import services
from cityos.auth.models import ApiToken
from cityos.core.db import utcnow
from tests.conftest import PASSWORD, Actors, csrf_of, login


def test_password_hash_round_trip() -> None:
    stored = services.hash_password("s3cret-pass")
    assert stored.startswith("scrypt$") and "s3cret" not in stored
    assert services.verify_password("s3cret-pass", stored)
    assert not services.verify_password("wrong", stored)


def test_token_is_hashed_and_shown_once(app: FastAPI, actors: Actors) -> None:
    actors.user("alice")
    plaintext = actors.token("alice")
    assert plaintext.startswith("cot_")
    with app.state.db.session() as session:
        stored = session.scalars(select(ApiToken)).one()
        assert plaintext.split("_", 2)[2] not in stored.secret_hash
        assert services.resolve_token(session, plaintext) is not None
        assert services.resolve_token(session, plaintext + "x") is None


def test_expired_and_revoked_tokens_are_refused(
    client: TestClient, app: FastAPI, actors: Actors
) -> None:
    actors.user("bob")
    token = actors.token("bob")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).json()["username"] == "bob"
    with app.state.db.session() as session:
        record = session.scalars(select(ApiToken)).one()
        record.expires_at = utcnow() - timedelta(seconds=1)
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401 and response.json()["code"] == "invalid_token"

    fresh = actors.token("bob")
    me = client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {fresh}"}).json()
    live = [t for t in me if t["revoked_at"] is None and t["expires_at"] > utcnow().isoformat()]
    revoked = client.delete(
        f"/api/v1/tokens/{live[0]['id']}", headers={"Authorization": f"Bearer {fresh}"}
    )
    assert revoked.status_code == 200
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh}"}).status_code == 401


def test_create_token_via_api_shows_it_once(client: TestClient, actors: Actors) -> None:
    actors.user("carol")
    headers = actors.headers("carol")
    created = client.post("/api/v1/tokens", json={"name": "etl", "days": 30}, headers=headers)
    assert created.status_code == 201
    token = created.json()["token"]
    listed = client.get("/api/v1/tokens", headers=headers).json()
    assert all("token" not in t for t in listed)
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["username"]
        == "carol"
    )
    bad = client.post("/api/v1/tokens", json={"name": "x", "days": 0}, headers=headers)
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"


def test_page_login_logout_and_wrong_password(client: TestClient, actors: Actors) -> None:
    actors.user("dora")
    page = client.get("/login")
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    wrong = client.post("/login", data={"username": "dora", "password": "nope-nope", "csrf": csrf})
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    login(client, "dora", PASSWORD)
    assert client.get("/api/v1/me").json()["username"] == "dora"
    client.post("/logout", data={"csrf": csrf_of(client)})
    assert client.get("/api/v1/me").json()["username"] is None


def test_login_form_without_csrf_is_refused(client: TestClient, actors: Actors) -> None:
    actors.user("eve")
    response = client.post("/login", data={"username": "eve", "password": PASSWORD})
    assert response.status_code == 403


def test_cookie_session_api_writes_need_the_csrf_header(client: TestClient, actors: Actors) -> None:
    actors.user("fay")
    login(client, "fay")
    assert client.post("/api/v1/tokens", json={"name": "a"}).status_code == 403
    ok = client.post(
        "/api/v1/tokens", json={"name": "a"}, headers={"X-CSRF-Token": csrf_of(client)}
    )
    assert ok.status_code == 201


def test_open_redirect_is_refused(client: TestClient, actors: Actors) -> None:
    actors.user("gus")
    page = client.get("/login")
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login",
        data={"username": "gus", "password": PASSWORD, "csrf": csrf, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_account_page_creates_a_token(client: TestClient, actors: Actors) -> None:
    actors.user("hal")
    login(client, "hal")
    page = client.post(
        "/account/tokens", data={"name": "脚本", "days": "7", "csrf": csrf_of(client)}
    )
    assert page.status_code == 200 and "仅显示一次" in page.text and "cot_" in page.text
