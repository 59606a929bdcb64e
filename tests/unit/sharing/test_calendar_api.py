"""The calendar through the API: read by anyone signed in, edited by the bureau's admins."""

from __future__ import annotations

from tests.unit.sharing.conftest import World


def test_read_the_built_in_year(world: World) -> None:
    response = world.client.get(
        "/api/v1/sharing/calendar?year=2026", headers=world.headers("officer_civil")
    )
    assert response.status_code == 200
    body = response.json()
    assert body["built_in"] and body["decision_days"] == 10
    days = {d["day"]: d for d in body["days"]}
    assert days["2026-02-14"] == {
        "day": "2026-02-14",
        "weekday": 6,
        "kind": "workday",
        "name": "春节调休上班",
        "source": "built_in",
    }
    assert days["2026-10-01"]["kind"] == "holiday" and days["2026-10-01"]["name"] == "国庆节"
    assert len([d for d in body["days"] if d["kind"] == "workday"]) == 6
    empty = world.client.get("/api/v1/sharing/calendar?year=2031", headers=world.headers("admin"))
    assert empty.json() == {"year": 2031, "built_in": False, "decision_days": 10, "days": []}
    assert world.client.get("/api/v1/sharing/calendar?year=2026").status_code == 401


def test_admin_edits_and_cancels_days(world: World) -> None:
    admin = world.headers("admin")
    url = "/api/v1/sharing/calendar/days"
    added = world.client.put(
        f"{url}/2027-02-05", json={"kind": "holiday", "name": "春节"}, headers=admin
    )
    assert added.status_code == 200 and added.json()["source"] == "edited"
    cancelled = world.client.delete(f"{url}/2026-01-02", headers=admin)
    assert cancelled.status_code == 204
    days = {
        d["day"]: d
        for d in world.client.get("/api/v1/sharing/calendar?year=2026", headers=admin).json()[
            "days"
        ]
    }
    assert "2026-01-02" not in days and "2026-01-01" in days
    year_2027 = world.client.get("/api/v1/sharing/calendar?year=2027", headers=admin).json()
    assert [d["day"] for d in year_2027["days"]] == ["2027-02-05"]
    # restoring a day as it was
    world.client.put(f"{url}/2026-01-02", json={"kind": "holiday", "name": "元旦"}, headers=admin)
    days = {
        d["day"]: d
        for d in world.client.get("/api/v1/sharing/calendar?year=2026", headers=admin).json()[
            "days"
        ]
    }
    assert days["2026-01-02"]["kind"] == "holiday" and days["2026-01-02"]["source"] == "edited"
    trail = world.client.get(
        "/api/v1/audit/records?action=sharing.calendar.", headers=admin
    ).json()["items"]
    assert [r["action"] for r in trail] == [
        "sharing.calendar.set",
        "sharing.calendar.clear",
        "sharing.calendar.set",
    ]


def test_calendar_problems(world: World) -> None:
    admin = world.headers("admin")
    url = "/api/v1/sharing/calendar/days"
    cases = [
        (f"{url}/2026-13-01", {"kind": "holiday", "name": "x"}, 422, "invalid_date"),
        (f"{url}/2026-03-02", {"kind": "party", "name": "x"}, 422, "invalid_calendar_kind"),
        (f"{url}/2026-03-02", {"kind": "holiday", "name": " "}, 422, "calendar_name_required"),
        (f"{url}/2026-03-02", {"kind": "holiday"}, 422, "calendar_name_required"),
    ]
    for path, body, status, code in cases:
        response = world.client.put(path, json=body, headers=admin)
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code
    for user in ("officer_police", "reviewer"):
        response = world.client.put(
            f"{url}/2026-03-02", json={"kind": "holiday", "name": "x"}, headers=world.headers(user)
        )
        assert response.status_code == 403
        assert (
            world.client.delete(f"{url}/2026-01-01", headers=world.headers(user)).status_code == 403
        )
