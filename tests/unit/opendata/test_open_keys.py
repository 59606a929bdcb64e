"""Open data keys: issue (shown once), limits, revoke (at once), developer centre pages."""

from __future__ import annotations

import pytest

from cityos.core.errors import ProblemError
from cityos.exchange import open_keys
from tests.conftest import csrf_of, login
from tests.unit.opendata import open_world
from tests.unit.opendata.open_world import OpenWorld

ow = open_world.ow


def test_issue_stores_only_an_hmac(ow: OpenWorld) -> None:
    key = ow.key("developer")
    principal = ow.w.principal("developer")
    assert principal.user_id
    with ow.w.db.session() as session:
        rows = open_keys.list_open_keys(session, principal.user_id)
    assert len(rows) == 1
    row = rows[0]
    assert row.purpose == "open_data" and row.daily_quota == 10_000
    assert key.startswith("cos_" + row.key_id)
    assert key[20:] not in row.secret_hmac.hex()
    assert (row.expires_at - row.created_at).days == 365


def test_at_most_five_live_general_keys(ow: OpenWorld) -> None:
    for _ in range(open_keys.MAX_LIVE_GENERAL_KEYS):
        ow.key("developer")
    with pytest.raises(ProblemError) as refused:
        ow.key("developer")
    assert refused.value.code == "too_many_keys"
    ow.key("developer", scope=ow.cond_id)  # scoped keys do not count


def test_nobody_issues_keys_for_someone_else(ow: OpenWorld) -> None:
    developer = ow.w.principal("developer")
    citizen = ow.w.principal("citizen")
    assert developer.user_id
    with ow.w.db.session() as session, pytest.raises(ProblemError):
        open_keys.issue_open_key(session, user_id=developer.user_id, label="x", actor=citizen)


def test_revocation_applies_to_the_next_call(ow: OpenWorld) -> None:
    key = ow.key("developer")
    assert ow.records(ow.open_id, key=key).status_code == 200
    with ow.w.db.session() as session:
        open_keys.revoke_open_key(session, key[4:20], None, "test")
    refused = ow.records(ow.open_id, key=key)
    assert refused.status_code == 401
    assert refused.json()["code"] == "code_revoked"


def test_bad_and_unknown_keys(ow: OpenWorld) -> None:
    key = ow.key("developer")
    broken = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert ow.records(ow.open_id, key=broken).json()["code"] == "code_invalid"
    from cityos.exchange import codes

    stranger, _kid, _secret = codes.new_code()
    assert ow.records(ow.open_id, key=stranger).json()["code"] == "code_unknown"


def test_keys_api_create_list_revoke(ow: OpenWorld) -> None:
    headers = ow.w.headers("developer")
    created = ow.client.post("/api/v1/open/keys", json={"label": "app"}, headers=headers)
    assert created.status_code == 201
    body = created.json()
    assert body["key"].startswith("cos_") and "secret_hmac" not in body
    listed = ow.client.get("/api/v1/open/keys", headers=headers).json()
    assert [k["key_id"] for k in listed] == [body["key_id"]]
    assert "key" not in listed[0]
    other = ow.client.post(
        f"/api/v1/open/keys/{body['key_id']}/revoke", headers=ow.w.headers("citizen")
    )
    assert other.status_code == 404
    revoked = ow.client.post(f"/api/v1/open/keys/{body['key_id']}/revoke", headers=headers)
    assert revoked.json()["status"] == "revoked"
    assert ow.records(ow.open_id, key=body["key"]).status_code == 401


def test_developer_page_needs_sign_in(ow: OpenWorld) -> None:
    answer = ow.client.get("/developer", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/developer"


def test_developer_page_creates_shows_once_and_revokes(ow: OpenWorld) -> None:
    login(ow.client, "developer")
    csrf = csrf_of(ow.client, "/developer")
    created = ow.client.post("/developer/keys", data={"label": "我的应用", "csrf": csrf})
    assert created.status_code == 201
    key = created.text.split('id="new-key" class="token" type="text" readonly value="', 1)[1]
    key = key.split('"', 1)[0]
    assert key.startswith("cos_")
    page = ow.client.get("/developer").text
    assert "我的应用" in page and key not in page
    assert ow.records(ow.open_id, key=key).status_code == 200
    revoke = ow.client.post(
        f"/developer/keys/{key[4:20]}/revoke", data={"csrf": csrf}, follow_redirects=False
    )
    assert revoke.status_code == 303
    assert ow.records(ow.open_id, key=key).status_code == 401
    no_csrf = ow.client.post("/developer/keys", data={"label": "x"})
    assert no_csrf.status_code == 403
