"""The whole 有条件开放 path: apply on the page, the provider approves on the workbench, the
applicant generates the key, the records API answers with it for that dataset only, and a
revocation stops it."""

from __future__ import annotations

import re
from datetime import timedelta

from cityos.opendata import applications
from tests.conftest import csrf_of, login
from tests.unit.opendata.test_applications_world import World, h5_world  # noqa: F401


def _records(world: World, code: str, key: str | None) -> int:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = world.client.get(f"/api/v1/open/datasets/{code}/records", headers=headers)
    return response.status_code


def _form_apply(world: World, code: str, **changes: str) -> tuple[int, str]:
    start = applications.today()
    data = {
        "csrf": csrf_of(world.client, f"/open/datasets/{code}/apply"),
        "organisation": "海口市城市安全研究所",
        "contact": "王工 13800000000",
        "purpose": "分析各区治安案件的季度变化趋势，为社区警务资源配置研究提供依据。",
        "scenario": "",
        "valid_from": start.isoformat(),
        "valid_until": (start + timedelta(days=100)).isoformat(),
        "agree": "1",
    }
    data.update(changes)
    response = world.client.post(f"/open/datasets/{code}/apply", data=data, follow_redirects=False)
    return response.status_code, response.headers.get("location", "") or response.text


def test_anonymous_visitors_are_sent_to_sign_in(world: World) -> None:
    code = world.code_of(world.dataset())
    response = world.client.get(f"/open/datasets/{code}/apply", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/open/datasets/")


def test_the_form_shows_the_agreement_and_refuses_without_it(world: World) -> None:
    code = world.code_of(world.dataset())
    login(world.client, "developer")
    page = world.client.get(f"/open/datasets/{code}/apply")
    assert page.status_code == 200
    assert "开放数据使用协议（有条件开放）" in page.text and "禁止重新识别" in page.text
    assert 'name="agree"' in page.text and "required" in page.text
    status, text = _form_apply(world, code, agree="")
    assert status == 422 and "须同意" in text
    free = world.code_of(world.dataset("unconditional"))
    refused = world.client.get(f"/open/datasets/{free}/apply")
    assert refused.status_code == 409 and "无条件开放" in refused.text


def test_apply_approve_key_records_revoke(world: World) -> None:
    rid = world.dataset(records=True)
    code = world.code_of(rid)
    other_code = world.code_of(world.dataset(records=True, name="另一有条件开放数据"))
    assert _records(world, code, None) == 401  # a key is required for 有条件开放

    login(world.client, "developer")
    status, location = _form_apply(world, code)
    assert status == 303, location
    app_id = location.split("/developer/applications/", 1)[1].split("?", 1)[0]
    mine = world.client.get("/developer/applications")
    assert app_id in mine.text and "待审核" in mine.text

    world.client.cookies.clear()
    login(world.client, "officer_eco")  # another department: no queue entry, 403 to decide
    assert app_id not in world.client.get("/workbench/open-applications").text
    csrf = csrf_of(world.client, "/workbench/open-applications")
    other = world.client.post(f"/workbench/open-applications/{app_id}/approve", data={"csrf": csrf})
    assert other.status_code == 403

    world.client.cookies.clear()
    login(world.client, "officer_police")
    queue = world.client.get("/workbench/open-applications")
    assert app_id in queue.text and "海口市城市安全研究所" in queue.text
    csrf = csrf_of(world.client, "/workbench/open-applications")
    approved = world.client.post(
        f"/workbench/open-applications/{app_id}/approve",
        data={"csrf": csrf, "comment": "同意"},
        follow_redirects=False,
    )
    assert approved.status_code == 303

    world.client.cookies.clear()
    login(world.client, "developer")
    detail = world.client.get(f"/developer/applications/{app_id}")
    assert "生成密钥" in detail.text
    csrf = csrf_of(world.client, f"/developer/applications/{app_id}")
    generated = world.client.post(f"/developer/applications/{app_id}/key", data={"csrf": csrf})
    assert generated.status_code == 200
    assert generated.headers["cache-control"] == "no-store"
    key = re.search(r'value="(cos_[^"]+)"', generated.text)
    assert key is not None
    plaintext = key.group(1)
    again = world.client.get(f"/developer/applications/{app_id}")
    assert plaintext not in again.text  # shown once

    world.client.cookies.clear()
    assert _records(world, code, plaintext) == 200
    assert _records(world, other_code, plaintext) == 403  # scoped to its dataset

    login(world.client, "officer_police")
    csrf = csrf_of(world.client, "/workbench/open-applications")
    revoked = world.client.post(
        f"/workbench/open-applications/{app_id}/revoke",
        data={"csrf": csrf, "reason": "违反用途限定"},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    world.client.cookies.clear()
    assert _records(world, code, plaintext) == 401
