"""A citizen asks for a missing dataset, the department answers, the citizen sees the answer and
a notification; when the dataset is published as open data the demand is fulfilled."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from cityos.core.i18n import DISPLAY_TZ
from tests.conftest import Actors, csrf_of, login


def _logout(client: TestClient) -> None:
    client.post("/logout", data={"csrf": csrf_of(client)})


def test_citizen_asks_officer_answers_citizen_is_notified(
    client: TestClient, actors: Actors
) -> None:
    water = actors.org("海口市水务局")
    actors.user("officer_water", "data_officer", water)
    actors.user("citizen", "public")

    # the citizen looks for the demand page, signs in and asks for the missing data
    assert "提出数据需求" in client.get("/demands").text
    login(client, "citizen")
    form = client.get("/demands/new")
    assert form.status_code == 200 and "海口市水务局" in form.text
    sent = client.post(
        "/demands/new",
        data={
            "csrf": csrf_of(client, "/demands/new"),
            "title": "城市易涝点实时积水深度",
            "description": "希望开放易涝点积水深度的实时监测数据，暴雨天出门前能查到哪些路段积水。",
            "org_id": water,
            "scenario": "暴雨天出行路线规划",
            "website": "",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303
    demand_path = sent.headers["location"].split("?", 1)[0]
    assert "您的需求已公开" in client.get(sent.headers["location"]).text
    _logout(client)

    # the water bureau's officer finds it in the workbench and accepts it with a planned date
    login(client, "officer_water")
    queue = client.get("/workbench/demands")
    assert "城市易涝点实时积水深度" in queue.text
    planned = (datetime.now(DISPLAY_TZ).date() + timedelta(days=30)).isoformat()
    answered = client.post(
        f"{demand_path}/answer",
        data={
            "csrf": csrf_of(client, "/workbench/demands"),
            "kind": "accepted",
            "planned_on": planned,
            "text": "汛期前开放主要易涝点的实时积水数据。",
            "back": "workbench",
        },
        follow_redirects=False,
    )
    assert answered.status_code == 303
    assert "城市易涝点实时积水深度" not in client.get("/workbench/demands").text  # answered
    _logout(client)

    # the citizen sees the answer and the notification
    login(client, "citizen")
    bell = client.get("/notifications")
    assert "责任部门已采纳需求“城市易涝点实时积水深度”" in bell.text and planned in bell.text
    link = re.findall(r'action="(/notifications/[0-9a-f]{32}/read)"', bell.text)[0]
    opened = client.post(
        link, data={"csrf": csrf_of(client, "/notifications"), "go": "1"}, follow_redirects=False
    )
    assert opened.headers["location"] == demand_path
    page = client.get(demand_path)
    assert "已采纳" in page.text and planned in page.text and "汛期前开放" in page.text
    assert "用时 0 个工作日" in page.text

    # in English the same notification reads in English
    english = client.get("/notifications?lang=en")
    assert "The department accepted the demand" in english.text
