"""Pages as a person sees them: headless Chromium on the demo, axe-core for WCAG 2.2 AA."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cityos.app import create_app
from cityos.auth.views import DEMO_PASSWORD
from cityos.config import Settings
from cityos.core.migrate import upgrade
from cityos.demo.loader import load_demo
from tests.functional.browser import axe_violations, browser_page, need_chromium, serve

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo on SQLite served on a free port (pages do not depend on the backend; the
    PostgreSQL runs of the API and page tests cover that)."""
    need_chromium()
    data_dir = tmp_path_factory.mktemp("browser") / "data"
    settings = Settings(data_dir=data_dir, demo=True, sqlite_synchronous="NORMAL")
    settings.ensure_data_dir()
    upgrade(settings.resolved_database_url)
    load_demo(settings)
    app = create_app(settings, migrate=False)
    with serve(app) as url:
        yield url
    app.state.db.dispose()


PUBLIC_PAGES = ["/", "/catalog?q=空气", "/login", "/catalog/201001-000001"]


def test_public_pages_have_no_serious_accessibility_violations(
    demo_url: str, tmp_path: Path
) -> None:
    with browser_page(viewport={"width": 1280, "height": 900}) as page:
        for path in PUBLIC_PAGES:
            page.goto(demo_url + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(
                path=str(tmp_path / f"{path.strip('/').replace('/', '_') or 'home'}.png")
            )
            violations = axe_violations(page)
            assert not violations, f"{path}: " + "\n".join(violations)


def test_search_and_sign_in_by_keyboard_on_a_phone(demo_url: str) -> None:
    with browser_page(viewport={"width": 360, "height": 740}) as page:
        page.goto(demo_url + "/")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        page.fill("#q", "水位")
        page.keyboard.press("Enter")
        page.wait_for_url("**/catalog?q=*")
        assert page.locator("text=南渡江水位监测数据").count() >= 1
        # no horizontal scrolling at 360 px (reflow)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.goto(demo_url + "/login")
        page.fill("#username", "officer_water")
        page.fill("#password", DEMO_PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_load_state("networkidle")
        page.goto(demo_url + "/workbench")
        assert page.locator("h1").inner_text() == "工作台"
        assert page.locator("text=南渡江水位监测数据").count() >= 1


SIGNED_IN_PAGES = {
    "officer_police": [
        "/sharing",
        "/sharing?box=outbox",
        "/sharing/grants?as=provider",
        "/catalog/101001-000001",
        "/services",
        "/incidents",
    ],
    "officer_health": ["/sharing/grants", "/sharing/requests/new?resource=101001-000001"],
    "reviewer": ["/console/classification", "/console/classification/policies", "/audit"],
    "admin": ["/console/sharing", "/console/calendar", "/console/services", "/incidents"],
}


def _sign_in(page: object, demo_url: str, username: str) -> None:
    page.goto(demo_url + "/login")  # type: ignore[attr-defined]
    page.fill("#username", username)  # type: ignore[attr-defined]
    page.fill("#password", DEMO_PASSWORD)  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]


@pytest.mark.parametrize("username", sorted(SIGNED_IN_PAGES))
def test_sharing_and_security_pages_are_accessible(demo_url: str, username: str) -> None:
    """The sharing, exchange, classification, audit and incident pages, for their users, on a
    desktop and at 360 px (no horizontal page scroll)."""
    for width in (1280, 360):
        with browser_page(viewport={"width": width, "height": 900}) as page:
            _sign_in(page, demo_url, username)
            for path in SIGNED_IN_PAGES[username]:
                response = page.goto(demo_url + path)
                assert response is not None and response.status == 200, path
                page.wait_for_load_state("networkidle")
                violations = axe_violations(page)
                assert not violations, f"{username} {path} @{width}px: " + "\n".join(violations)
                wide = page.evaluate(
                    "document.documentElement.scrollWidth <= window.innerWidth + 1"
                )
                assert wide, f"{username} {path}: scrolls sideways at {width}px"
