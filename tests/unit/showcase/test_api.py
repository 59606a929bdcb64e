"""The showcase API: submit, validate, review, withdraw, who sees what, filters."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cityos.audit.models import AuditRecord
from cityos.notify import services as notify
from cityos.showcase import services
from tests.unit.showcase.conftest import World


def test_submit_waits_for_review_and_is_seen_only_by_submitter_and_bureau(world: World) -> None:
    app = world.submitted()
    assert app["status"] == "submitted"
    assert app["title"] == "椰城空气"
    assert [d["code"] for d in app["datasets"]] == ["9-000001"]
    assert app["datasets"][0]["url"] == "/open/datasets/9-000001"
    path = f"/api/v1/showcase/{app['id']}"
    assert world.client.get(path).status_code == 404
    assert world.client.get(path, headers=world.headers("other")).status_code == 404
    assert world.client.get(path, headers=world.headers("developer")).status_code == 200
    assert world.client.get(path, headers=world.headers("admin")).status_code == 200
    assert world.client.get("/api/v1/showcase").json()["total"] == 0
    mine = world.client.get("/api/v1/showcase?mine=true", headers=world.headers("developer"))
    assert [a["id"] for a in mine.json()["apps"]] == [app["id"]]
    assert world.client.get("/api/v1/showcase?mine=true").status_code == 401


def test_submit_needs_a_signed_in_user(world: World) -> None:
    response = world.client.post("/api/v1/showcase", json=world.body())
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://example.org/app",
        "example.org/app",
        "https://",
        "https://user:secret@example.org/",
        "https://example.org/a b",
        "",
    ],
)
def test_only_http_and_https_addresses(world: World, url: str) -> None:
    response = world.submit(url=url)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "bad_url"


def test_datasets_must_be_open(world: World) -> None:
    for code in ("9-000003", "9-000004", "nope"):
        response = world.submit(datasets=["9-000001", code])
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "dataset_not_open"
        assert code in response.json()["detail"]
    none = world.submit(datasets=[])
    assert none.status_code == 422 and none.json()["code"] == "datasets_required"
    both = world.submitted(datasets=["9-000001", "9-000002 南渡江水位监测数据", "9-000001"])
    assert [d["code"] for d in both["datasets"]] == ["9-000001", "9-000002"]


def test_a_title_is_required(world: World) -> None:
    response = world.submit(title="   ")
    assert response.status_code == 422
    assert response.json()["code"] == "title_required"
    unknown = world.submit(kind="game")
    assert unknown.status_code == 422


def test_approval_makes_it_public_and_notifies_the_submitter(world: World) -> None:
    app = world.approved()
    assert app["status"] == "approved" and app["reviewed_at"]
    public = world.client.get(f"/api/v1/showcase/{app['id']}")
    assert public.status_code == 200
    listed = world.client.get("/api/v1/showcase").json()
    assert [a["id"] for a in listed["apps"]] == [app["id"]]
    with world.db.session() as session:
        developer = world.principal("developer").user_id
        assert developer is not None
        notes = notify.list_for(session, developer)
        assert [n.kind for n in notes] == ["showcase.approved"]
        assert notes[0].link == f"/showcase/{app['id']}"
        actions = set(session.scalars(select(AuditRecord.action)))
    assert {"showcase.submit", "showcase.approve"} <= actions


def test_rejection_needs_a_reason_and_stays_private(world: World) -> None:
    app = world.submitted()
    assert world.review(app["id"], "reject").status_code == 422
    rejected = world.review(app["id"], "reject", "链接无法访问")
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert world.client.get(f"/api/v1/showcase/{app['id']}").status_code == 404
    mine = world.client.get(f"/api/v1/showcase/{app['id']}", headers=world.headers("developer"))
    assert mine.json()["review_reason"] == "链接无法访问"
    assert world.review(app["id"], "approve").status_code == 409
    with world.db.session() as session:
        developer = world.principal("developer").user_id
        assert developer is not None
        note = notify.list_for(session, developer)[0]
        assert note.kind == "showcase.rejected"
        assert note.params["reason"] == "链接无法访问"


def test_only_the_bureau_reviews(world: World) -> None:
    app = world.submitted()
    for username in ("developer", "officer_env"):
        response = world.client.post(
            f"/api/v1/showcase/{app['id']}/review",
            json={"action": "approve"},
            headers=world.headers(username),
        )
        assert response.status_code == 403


def test_the_submitter_edits_and_withdraws_while_it_waits(world: World) -> None:
    app = world.submitted()
    path = f"/api/v1/showcase/{app['id']}"
    body = world.body(title="椰城空气 2.0", datasets=["9-000002"])
    other = world.client.put(path, json=body, headers=world.headers("other"))
    assert other.status_code == 404
    edited = world.client.put(path, json=body, headers=world.headers("developer"))
    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "椰城空气 2.0"
    assert [d["code"] for d in edited.json()["datasets"]] == ["9-000002"]
    bad = world.client.put(path, json=world.body(url="ftp://x"), headers=world.headers("developer"))
    assert bad.status_code == 422
    assert world.client.post(f"{path}/withdraw", headers=world.headers("other")).status_code == 404
    gone = world.client.post(f"{path}/withdraw", headers=world.headers("developer"))
    assert gone.status_code == 200 and gone.json()["status"] == "withdrawn"
    again = world.client.post(f"{path}/withdraw", headers=world.headers("developer"))
    assert again.status_code == 409
    assert world.review(app["id"], "approve").status_code == 409


def test_nobody_changes_an_approved_entry(world: World) -> None:
    app = world.approved()
    path = f"/api/v1/showcase/{app['id']}"
    other = world.client.put(path, json=world.body(), headers=world.headers("other"))
    assert other.status_code == 403
    own = world.client.put(path, json=world.body(), headers=world.headers("developer"))
    assert own.status_code == 409


def test_filters_by_kind_dataset_and_words(world: World) -> None:
    air = world.approved()
    water = world.approved(
        title="南渡江水情看板",
        kind="visualisation",
        summary="水位",
        author="水务爱好者",
        datasets=["9-000002"],
    )
    world.submitted(title="待审的空气应用")

    def ids(query: str) -> list[str]:
        response = world.client.get(f"/api/v1/showcase?{query}")
        assert response.status_code == 200, response.text
        return [a["id"] for a in response.json()["apps"]]

    assert set(ids("")) == {air["id"], water["id"]}
    assert ids("kind=visualisation") == [water["id"]]
    assert ids("dataset=9-000001") == [air["id"]]
    assert ids("q=水情") == [water["id"]]
    assert ids("q=椰城 社区") == [air["id"]]
    assert ids("q=100%") == []
    bad_kind = world.client.get("/api/v1/showcase?kind=game")
    assert bad_kind.status_code == 400 and "kind" in bad_kind.json()["detail"]
    closed = world.client.get("/api/v1/showcase?dataset=9-000003")
    assert closed.status_code == 400 and "9-000003" in closed.json()["detail"]


def test_for_resource_and_recent(world: World) -> None:
    air = world.approved()
    water = world.approved(title="水情", datasets=["9-000001", "9-000002"])
    pending = world.submitted(title="待审")
    with world.db.session() as session:
        assert {a.id for a in services.for_resource(session, world.ids["9-000001"])} == {
            air["id"],
            water["id"],
        }
        assert [a.id for a in services.for_resource(session, world.ids["9-000002"])] == [
            water["id"]
        ]
        assert services.for_resource(session, world.ids["9-000003"]) == []
        recent = [a.id for a in services.recent(session, limit=6)]
    assert set(recent) == {air["id"], water["id"]} and pending["id"] not in recent


def test_a_dataset_may_be_named_by_its_exact_name(world: World) -> None:
    app = world.submitted(datasets=["南渡江水位监测数据"])
    assert [d["code"] for d in app["datasets"]] == ["9-000002"]
    closed = world.submit(datasets=["人口基础信息"])
    assert closed.status_code == 422 and "人口基础信息" in closed.json()["detail"]
