"""Notifications: stored as msgids, translated when shown, mine only, marked read."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityos.notify import services
from tests.conftest import Actors, csrf_of, login

MESSAGE = "The department replied to your demand “{title}”."


def _send(app: FastAPI, user_ids: list[str], title: str = "公交实时到站数据") -> int:
    with app.state.db.session() as session:
        return services.notify(
            session,
            user_ids,
            kind="demand.replied",
            message=MESSAGE,
            params={"title": title},
            link="/demands/x",
        )


def test_notify_counts_and_translates(app: FastAPI, client: TestClient, actors: Actors) -> None:
    alice = actors.user("alice")
    bob = actors.user("bob")
    assert _send(app, [alice, alice, bob, ""]) == 2  # one per distinct user
    with app.state.db.session() as session:
        assert services.unread_count(session, alice) == 1
    zh = client.get("/api/v1/notifications", headers=actors.headers("alice")).json()
    assert (
        zh["unread"] == 1 and zh["items"][0]["text"] == "责任部门回复了您的需求“公交实时到站数据”。"
    )
    assert zh["items"][0]["message"] == MESSAGE  # stored untranslated
    en = client.get(
        "/api/v1/notifications", headers={**actors.headers("alice"), "Accept-Language": "en"}
    ).json()
    assert en["items"][0]["text"] == "The department replied to your demand “公交实时到站数据”."


def test_mark_read_only_mine(app: FastAPI, client: TestClient, actors: Actors) -> None:
    alice = actors.user("alice")
    actors.user("bob")
    _send(app, [alice])
    _send(app, [alice], "停车场实时泊位")
    mine = client.get("/api/v1/notifications", headers=actors.headers("alice")).json()["items"]
    assert [n["params"]["title"] for n in mine] == ["停车场实时泊位", "公交实时到站数据"]
    other = client.post(
        f"/api/v1/notifications/{mine[0]['id']}/read", headers=actors.headers("bob")
    )
    assert other.status_code == 404
    one = client.post(
        f"/api/v1/notifications/{mine[0]['id']}/read", headers=actors.headers("alice")
    )
    assert one.status_code == 200 and one.json()["read_at"]
    with app.state.db.session() as session:
        assert services.unread_count(session, alice) == 1
    everything = client.post("/api/v1/notifications/read-all", headers=actors.headers("alice"))
    assert everything.json() == {"marked": 1, "unread": 0}
    assert client.get("/api/v1/notifications").status_code == 401


def test_page_lists_highlights_and_marks_read(
    app: FastAPI, client: TestClient, actors: Actors
) -> None:
    alice = actors.user("alice")
    _send(app, [alice])
    assert client.get("/notifications", follow_redirects=False).status_code == 303  # sign in first
    login(client, "alice")
    page = client.get("/notifications")
    assert page.status_code == 200 and "panel notification-unread" in page.text
    assert "责任部门回复了您的需求" in page.text
    note_id = re.findall(r'action="/notifications/([0-9a-f]{32})/read"', page.text)[0]
    forged = client.post(f"/notifications/{note_id}/read", data={"csrf": "wrong"})
    assert forged.status_code == 403
    token = csrf_of(client, "/notifications")
    opened = client.post(
        f"/notifications/{note_id}/read", data={"csrf": token, "go": "1"}, follow_redirects=False
    )
    assert opened.status_code == 303 and opened.headers["location"] == "/demands/x"
    assert "panel notification-unread" not in client.get("/notifications").text
