"""The signed-in showcase pages in headless Chromium: axe-core (no serious or critical
violation) and no sideways scrolling at 360 px. (The public ones: tests/functional.)"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from cityos.auth.views import DEMO_PASSWORD
from cityos.showcase import services
from tests.functional.browser import axe_violations, browser_page, need_chromium, serve

pytestmark = pytest.mark.browser


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()


def _check(page: Any, base: str, paths: list[str]) -> None:
    for path in paths:
        response = page.goto(base + path)
        assert response is not None and response.status == 200, path
        violations = axe_violations(page)
        assert not violations, f"{path}: " + "\n".join(violations)
        wide = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert wide, f"{path}: scrolls sideways"


@pytest.mark.parametrize("width", [1280, 360])
def test_signed_in_showcase_pages(demo_app: FastAPI, width: int) -> None:
    need_chromium()
    with demo_app.state.db.session() as session:
        pending = services.review_queue(session)[0].id
    with serve(demo_app) as base:
        with browser_page(viewport={"width": width, "height": 900}) as page:
            _sign_in(page, base, "developer")
            _check(page, base, ["/showcase/new", f"/showcase/{pending}", "/showcase"])
        with browser_page(viewport={"width": width, "height": 900}) as page:
            _sign_in(page, base, "admin")
            _check(page, base, ["/console/showcase", f"/showcase/{pending}"])
