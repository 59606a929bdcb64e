"""The codes page of a grant: issue (shown once), list, rotate, suspend, revoke; who may."""

from __future__ import annotations

import re

from cityos.exchange import codes
from tests.conftest import login
from tests.unit.exchange.conftest import World


def _csrf(html: str) -> str:
    return html.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_consumer_officer_issues_a_code_shown_once(world: World) -> None:
    gid = world.grant(world.people())
    login(world.client, "officer_civil")
    page = world.client.get(f"/exchange/grants/{gid}/codes")
    assert page.status_code == 200 and "发放授权码" in page.text
    r = world.client.post(
        f"/exchange/grants/{gid}/codes",
        data={"csrf": _csrf(page.text), "label": "低保核验", "expires_on": "2099-01-01"},
    )
    assert r.status_code == 422  # after the grant's last day
    expiry = re.search(r'name="expires_on" type="date" required value="([0-9-]+)"', page.text)
    assert expiry is not None
    r = world.client.post(
        f"/exchange/grants/{gid}/codes",
        data={"csrf": _csrf(page.text), "label": "低保核验", "expires_on": expiry.group(1)},
    )
    assert r.status_code == 200
    found = re.search(r"cos_[0-9a-f]{16}[0-9A-Za-z]{49}", r.text)
    assert found is not None
    plaintext = found.group(0)
    codes.parse(plaintext)
    assert world.call(plaintext, limit=1).status_code == 200
    again = world.client.get(f"/exchange/grants/{gid}/codes")
    assert plaintext not in again.text and codes.parse(plaintext).key_id in again.text
    assert "低保核验" in again.text and "curl" in again.text

    # rotation shows the new code once; the old one is listed as rotating
    r = world.client.post(
        f"/exchange/codes/{codes.parse(plaintext).key_id}/rotate", data={"csrf": _csrf(again.text)}
    )
    assert r.status_code == 200
    new = re.search(r"cos_[0-9a-f]{16}[0-9A-Za-z]{49}", r.text)
    assert new is not None and new.group(0) != plaintext
    assert world.call(plaintext, limit=1).status_code == 200  # in its overlap


def test_provider_sees_and_revokes_others_cannot_see(world: World) -> None:
    gid = world.grant(world.people())
    key_id, plaintext = world.code(gid)
    login(world.client, "officer_police")
    page = world.client.get(f"/exchange/grants/{gid}/codes")
    assert page.status_code == 200 and key_id in page.text
    assert 'action="/exchange/grants/' not in page.text  # no issue form for the provider
    r = world.client.post(
        f"/exchange/codes/{key_id}/revoke",
        data={"csrf": _csrf(page.text), "reason": "疑似泄露"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert world.call(plaintext).json()["code"] == "code_revoked"

    world.client.cookies.clear()
    login(world.client, "officer_health")
    assert world.client.get(f"/exchange/grants/{gid}/codes").status_code == 404


def test_staff_without_officer_role_cannot_issue(world: World) -> None:
    gid = world.grant(world.people())
    login(world.client, "staff_civil")
    page = world.client.get(f"/exchange/grants/{gid}/codes")
    assert page.status_code == 200
    assert 'name="expires_on"' not in page.text
    r = world.client.post(
        f"/exchange/grants/{gid}/codes",
        data={"csrf": _csrf(page.text), "expires_on": "2030-01-01"},
    )
    assert r.status_code == 403
