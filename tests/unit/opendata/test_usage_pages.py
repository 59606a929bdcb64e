"""Who sees which usage figures: data officers their departments' datasets, the bureau all."""

from __future__ import annotations

from datetime import timedelta

from cityos.opendata import usage
from tests.conftest import login
from tests.unit.opendata.test_applications_world import World, h5_world  # noqa: F401


def _seed(world: World) -> tuple[str, str]:
    police = world.dataset("unconditional", name="治安案件统计")
    eco = world.dataset("unconditional", provider=world.eco, name="空气质量监测")
    usage.count(world.app, police, "view", 5)
    usage.count(world.app, police, "api", 7)
    usage.count(world.app, eco, "view", 40)
    usage.count(world.app, eco, "download", 3)
    usage.flush(world.app)
    # an older day, outside the 7-day window but inside 30 days
    old = usage.shanghai_epoch_day() - 20
    with world.db.session() as session:
        usage.add_counts(session, {(eco, old, "api"): 100})
    return police, eco


def test_the_api_shows_officers_their_own_datasets(world: World) -> None:
    police, eco = _seed(world)
    anonymous = world.client.get("/api/v1/open/usage")
    assert anonymous.status_code == 401
    citizen = world.client.get("/api/v1/open/usage", headers=world.headers("developer"))
    assert citizen.status_code == 403
    own = world.client.get("/api/v1/open/usage?days=7", headers=world.headers("officer_police"))
    assert own.status_code == 200
    data = own.json()
    assert data["scope"] == "own"
    assert [d["resource_id"] for d in data["datasets"]] == [police]
    assert data["totals"] == {"view": 5, "download": 0, "api": 7}
    assert len(data["series"]) == 7 and data["series"][-1]["view"] == 5
    bureau = world.client.get("/api/v1/open/usage?days=30", headers=world.headers("reviewer"))
    body = bureau.json()
    assert body["scope"] == "all"
    assert [d["resource_id"] for d in body["datasets"]] == [eco, police]  # most used first
    assert body["totals"] == {"view": 45, "download": 3, "api": 107}
    assert {p["provider_id"] for p in body["publishers"]} == {world.police, world.eco}
    week = world.client.get("/api/v1/open/usage?days=7", headers=world.headers("admin")).json()
    assert week["totals"]["api"] == 7  # the old day is outside the window
    bad = world.client.get("/api/v1/open/usage?days=12", headers=world.headers("admin"))
    assert bad.status_code == 400 and bad.json()["code"] == "bad_days"


def test_queries(world: World) -> None:
    police, eco = _seed(world)
    with world.db.session() as session:
        assert usage.totals_for(session, eco) == {"view": 40, "download": 3, "api": 100}
        assert usage.totals_for(session, eco, days=7)["api"] == 0
        ranked = usage.per_dataset(session, days=30, order="view")
        assert [r.resource_id for r in ranked] == [eco, police]
        only = usage.per_dataset(session, provider_id=world.police, days=None)
        assert [(r.resource_id, r.view, r.api) for r in only] == [(police, 5, 7)]
        publishers = usage.per_publisher(session, days=None)
        assert publishers[0].provider_id == world.eco and publishers[0].total == 143
        series = usage.daily_series(session, days=30, resource_id=eco)
        assert len(series) == 30 and series[0].day == usage.today() - timedelta(days=29)
        assert sum(d.api for d in series) == 100


def test_pages_follow_the_same_rules(world: World) -> None:
    _seed(world)
    login(world.client, "officer_police")
    page = world.client.get("/workbench/open-usage?days=30")
    assert page.status_code == 200
    assert "治安案件统计" in page.text and "空气质量监测" not in page.text
    assert world.client.get("/console/open-usage").status_code == 403
    world.client.cookies.clear()
    login(world.client, "developer")
    assert world.client.get("/workbench/open-usage").status_code == 403
    world.client.cookies.clear()
    login(world.client, "admin")
    console = world.client.get("/console/open-usage?days=90")
    assert console.status_code == 200
    assert "治安案件统计" in console.text and "空气质量监测" in console.text
    assert "海口市生态环境局" in console.text  # per publisher
    assert "usage-chart" in console.text and "<caption>" in console.text
