"""Incident pages: list, detail tabs, remedies with confirmation, notes, status, documents; the
CLI command; another department gets 404."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityos.config import Settings
from cityos.incidents.detection import detect
from tests.conftest import Actors, csrf_of, login
from tests.unit.incidents.world import World, make_world


@pytest.fixture
def world(app: FastAPI, client: TestClient, actors: Actors) -> World:
    w = make_world(app, client, actors)
    w.calls(2)
    assert len(detect(w.db).opened) == 1
    return w


def _number(world: World) -> str:
    body = world.client.get("/api/v1/incidents", headers=world.headers("admin")).json()
    return str(body["items"][0]["number"])


def test_list_and_detail_pages(world: World) -> None:
    number = _number(world)
    login(world.client, "admin")
    page = world.client.get("/incidents")
    assert page.status_code == 200 and number in page.text and "安全事件" in page.text
    assert "非工作时间导出" in page.text and "tag-warn" in page.text  # 较大: amber
    assert 'href="/audit"' in page.text  # nav link for auditors
    for tab in ("timeline", "evidence", "subjects", "notice", "report"):
        got = world.client.get(f"/incidents/{number}?tab={tab}")
        assert got.status_code == 200, tab
    evidence = world.client.get(f"/incidents/{number}?tab=evidence").text
    assert "/audit/records/" in evidence
    subjects = world.client.get(f"/incidents/{number}?tab=subjects").text
    assert (
        "张三" in subjects
        and "4601**********1230" in subjects
        and "460100199001011230" not in subjects
    )
    assert "subjects.csv" in subjects


def test_remedy_needs_the_confirmation_box(world: World) -> None:
    number = _number(world)
    login(world.client, "officer_provider")
    page = world.client.get(f"/incidents/{number}")
    assert page.status_code == 200 and "暂停共享授权" in page.text
    csrf = csrf_of(world.client, f"/incidents/{number}")
    unconfirmed = world.client.post(
        f"/incidents/{number}/remedies",
        data={"action": "suspend_grant", "reason": "夜间导出", "csrf": csrf},
        follow_redirects=False,
    )
    assert unconfirmed.status_code == 422 and "夜间导出" in unconfirmed.text
    done = world.client.post(
        f"/incidents/{number}/remedies",
        data={"action": "suspend_grant", "reason": "夜间导出", "confirm": "yes", "csrf": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303
    shown = world.client.get(done.headers["location"]).text
    assert "已控制" in shown and "已暂停" in shown
    note = world.client.post(
        f"/incidents/{number}/notes",
        data={"text": "已通知使用部门", "csrf": csrf},
        follow_redirects=False,
    )
    assert note.status_code == 303
    assert "已通知使用部门" in world.client.get(f"/incidents/{number}").text
    # a provider officer may not close it, nor write the documents
    refused = world.client.post(
        f"/incidents/{number}/status",
        data={"status": "closed", "reason": "x", "csrf": csrf},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert (
        world.client.post(
            f"/incidents/{number}/documents/notice", data={"op": "generate", "csrf": csrf}
        ).status_code
        == 403
    )


def test_documents_on_the_page(world: World) -> None:
    number = _number(world)
    login(world.client, "reviewer")
    csrf = csrf_of(world.client, f"/incidents/{number}?tab=notice")
    before = world.client.get(f"/incidents/{number}?tab=notice").text
    assert "生成告知书" in before
    made = world.client.post(
        f"/incidents/{number}/documents/notice",
        data={"op": "generate", "csrf": csrf},
        follow_redirects=False,
    )
    assert made.status_code == 303
    page = world.client.get(f"/incidents/{number}?tab=notice").text
    assert "个人信息安全事件告知书" in page and "草稿" in page and "<textarea" in page
    final = world.client.post(
        f"/incidents/{number}/documents/notice",
        data={"op": "finalise", "text": "# 告知书\n定稿内容", "csrf": csrf},
        follow_redirects=False,
    )
    assert final.status_code == 303
    page = world.client.get(f"/incidents/{number}?tab=notice").text
    assert "定稿内容" in page and "<textarea" not in page
    again = world.client.post(
        f"/incidents/{number}/documents/notice",
        data={"op": "regenerate", "csrf": csrf},
    )
    assert again.status_code == 409
    closed = world.client.post(
        f"/incidents/{number}/status",
        data={"status": "closed", "reason": "处置完毕", "csrf": csrf},
        follow_redirects=False,
    )
    assert closed.status_code == 303
    assert "已关闭" in world.client.get(f"/incidents/{number}").text


def test_other_department_gets_404(world: World) -> None:
    number = _number(world)
    login(world.client, "officer_other")
    assert world.client.get(f"/incidents/{number}").status_code == 404
    listing = world.client.get("/incidents")
    assert listing.status_code == 200 and number not in listing.text


def test_detect_button_and_cli(world: World, settings: Settings, backend: str) -> None:
    login(world.client, "reviewer")
    csrf = csrf_of(world.client, "/incidents")
    ran = world.client.post("/incidents/detect", data={"csrf": csrf}, follow_redirects=False)
    assert ran.status_code == 303 and "done=detect:" in ran.headers["location"]
    if backend != "sqlite":
        return
    world.calls(1, code="KCLI")
    result = CliRunner().invoke(
        __import__("cityos.cli", fromlist=["main"]).main,
        ["incidents", "detect", "--data-dir", str(Path(settings.data_dir))],
    )
    assert result.exit_code == 0, result.output
    assert "opened 1" in result.output
