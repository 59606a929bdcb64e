"""Showcase pages in zh-Hans (the default) and English: gallery, entry, form, bureau queue."""

from __future__ import annotations

import re

from tests.conftest import csrf_of, login
from tests.unit.showcase.conftest import World


def _form(world: World, **extra: str | list[str]) -> dict[str, str | list[str]]:
    data: dict[str, str | list[str]] = {
        "csrf": csrf_of(world.client, "/showcase/new"),
        "title": "椰城空气",
        "kind": "app",
        "summary": "查看各站点实时空气质量。",
        "description": "",
        "url": "https://example.org/air",
        "author": "",
        "dataset": ["9-000001", "", ""],
    }
    data.update(extra)
    return data


def test_gallery_shows_approved_cards_in_chinese(world: World) -> None:
    approved = world.approved()
    world.submitted(title="待审的应用")
    page = world.client.get("/showcase")
    assert page.status_code == 200
    assert 'lang="zh-Hans"' in page.text
    assert "应用展示" in page.text and "共 1 个条目" in page.text
    assert f'href="/showcase/{approved["id"]}"' in page.text
    assert "待审的应用" not in page.text
    assert 'href="/open/datasets/9-000001"' in page.text
    filtered = world.client.get("/showcase?kind=research")
    assert "共 0 个条目" in filtered.text
    english = world.client.get("/showcase?lang=en&dataset=9-000001")
    assert "Showcase" in english.text and "1 entries found" in english.text


def test_gallery_rejects_an_unknown_filter(world: World) -> None:
    page = world.client.get("/showcase?dataset=9-000003")
    assert page.status_code == 400
    assert "9-000003" in page.text and "<html" in page.text


def test_entry_page_links_the_datasets_and_the_external_site(world: World) -> None:
    app = world.approved(datasets=["9-000001", "9-000002"])
    page = world.client.get(f"/showcase/{app['id']}")
    assert page.status_code == 200
    assert "椰城开发者社区" in page.text
    assert 'href="/open/datasets/9-000001"' in page.text
    assert 'href="/open/datasets/9-000002"' in page.text
    link = re.search(r'<a href="https://example.org/air"[^>]*>', page.text)
    assert link is not None and 'rel="noopener noreferrer"' in link.group(0)
    assert "外部网站" in page.text
    assert "<p>每小时更新。</p>" in page.text


def test_pending_entries_are_private(world: World) -> None:
    app = world.submitted()
    assert world.client.get(f"/showcase/{app['id']}").status_code == 404
    login(world.client, "other")
    assert world.client.get(f"/showcase/{app['id']}").status_code == 404
    assert world.client.get(f"/showcase/{app['id']}/edit").status_code == 404
    world.client.post("/logout", data={"csrf": csrf_of(world.client)})
    login(world.client, "admin")
    assert world.client.get(f"/showcase/{app['id']}").status_code == 200
    assert world.client.get(f"/showcase/{app['id']}/edit").status_code == 403


def test_the_form_needs_a_sign_in(world: World) -> None:
    response = world.client.get("/showcase/new", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_submit_edit_and_withdraw_through_the_pages(world: World) -> None:
    login(world.client, "developer")
    form = world.client.get("/showcase/new?dataset=9-000002")
    assert form.status_code == 200
    assert '<datalist id="sc-open-datasets">' in form.text
    assert '<option value="9-000001">海口市空气质量监测数据</option>' in form.text
    assert "9-000003" not in form.text  # not open: not offered
    assert 'value="9-000002"' in form.text
    bad = world.client.post("/showcase/new", data=_form(world, dataset=["9-000003"]))
    assert bad.status_code == 422
    assert "9-000003 不是开放数据集" in bad.text
    assert 'value="椰城空气"' in bad.text  # the input is kept
    bad_url = world.client.post("/showcase/new", data=_form(world, url="javascript:alert(1)"))
    assert bad_url.status_code == 422 and "http://" in bad_url.text
    no_csrf = world.client.post("/showcase/new", data=_form(world, csrf="nope"))
    assert no_csrf.status_code == 403
    done = world.client.post("/showcase/new", data=_form(world), follow_redirects=False)
    assert done.status_code == 303
    path = done.headers["location"].split("?")[0]
    page = world.client.get(done.headers["location"])
    assert "待审核" in page.text and "感谢提交" in page.text
    assert f'action="{path}/withdraw"' in page.text
    saved = world.client.post(
        f"{path}/edit",
        data=_form(world, title="椰城空气 2.0", dataset=["9-000001", "9-000002"]),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "椰城空气 2.0" in world.client.get(path).text
    gone = world.client.post(
        f"{path}/withdraw", data={"csrf": csrf_of(world.client)}, follow_redirects=False
    )
    assert gone.status_code == 303
    listing = world.client.get("/showcase")
    assert "我的提交" in listing.text and "已撤回" in listing.text


def test_the_bureau_reviews_in_the_console(world: World) -> None:
    first = world.submitted()
    second = world.submitted(title="南渡江水情看板")
    login(world.client, "developer")
    assert world.client.get("/console/showcase").status_code == 403
    world.client.post("/logout", data={"csrf": csrf_of(world.client)})
    login(world.client, "admin")
    queue = world.client.get("/console/showcase")
    assert queue.status_code == 200
    assert "椰城空气" in queue.text and "南渡江水情看板" in queue.text
    csrf = csrf_of(world.client, "/console/showcase")
    approve = world.client.post(
        f"/console/showcase/{first['id']}",
        data={"action": "approve", "csrf": csrf},
        follow_redirects=False,
    )
    assert approve.status_code == 303
    no_reason = world.client.post(
        f"/console/showcase/{second['id']}", data={"action": "reject", "reason": "", "csrf": csrf}
    )
    assert no_reason.status_code == 422 and "请填写原因" in no_reason.text
    reject = world.client.post(
        f"/console/showcase/{second['id']}",
        data={"action": "reject", "reason": "链接无法访问", "csrf": csrf},
    )
    assert reject.status_code == 200 and "已驳回" in reject.text
    assert "暂无待审核的应用展示" in reject.text
    assert world.client.get(f"/api/v1/showcase/{first['id']}").json()["status"] == "approved"
