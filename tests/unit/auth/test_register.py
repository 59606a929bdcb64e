"""Self-service registration: public role, sign-in, safe next, duplicates, honeypot, rate limit."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from cityos.auth import services
from cityos.auth.models import Membership
from tests.conftest import PASSWORD, login


def _form(client: TestClient, **fields: Any) -> Any:
    page = client.get("/register")
    assert page.status_code == 200
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    data = {
        "username": "newdev",
        "display_name": "新开发者",
        "password": PASSWORD,
        "password2": PASSWORD,
        "email": "",
        "next": "/developer",
        "csrf": csrf,
        **fields,
    }
    return client.post("/register", data=data, follow_redirects=False)


def test_register_creates_a_public_user_and_signs_in(client: TestClient) -> None:
    answer = _form(client)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/developer"
    me = client.get("/api/v1/me").json()
    assert me["username"] == "newdev"
    with client.app.state.db.session() as session:  # type: ignore[attr-defined]
        user = services.get_user_by_name(session, "newdev")
        assert user is not None
        roles = [(m.role, m.org_id) for m in session.query(Membership).filter_by(user_id=user.id)]
    assert roles == [("public", None)]


def test_login_page_links_to_register(client: TestClient) -> None:
    assert 'href="/register' in client.get("/login").text


def test_unsafe_next_goes_home(client: TestClient) -> None:
    answer = _form(client, username="other", next="https://evil.example/")
    assert answer.headers["location"] == "/"


def test_duplicate_username_is_a_form_error(client: TestClient) -> None:
    assert _form(client).status_code == 303
    client.cookies.clear()
    again = _form(client)
    assert again.status_code == 409
    assert 'role="alert"' in again.text


def test_password_mismatch_and_weak_password(client: TestClient) -> None:
    assert _form(client, password2="different-pass").status_code == 400
    assert _form(client, password="short", password2="short").status_code == 400


def test_honeypot_refuses(client: TestClient) -> None:
    answer = _form(client, website="http://spam.example")
    assert answer.status_code == 400
    with client.app.state.db.session() as session:  # type: ignore[attr-defined]
        assert services.get_user_by_name(session, "newdev") is None


def test_rate_limit_per_ip(client: TestClient) -> None:
    for n in range(5):
        assert _form(client, username=f"user{n}").status_code == 303
        client.cookies.clear()
    limited = _form(client, username="user9")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0


def test_new_user_can_sign_in_again(client: TestClient) -> None:
    _form(client)
    client.cookies.clear()
    login(client, "newdev")
