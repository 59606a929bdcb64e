"""The open-data portal as a person sees it: axe-core (WCAG 2.2 AA) in normal and 长辈版,
360 px reflow, the chart and the map drawn, keyboard reach, on the demo in headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cityos.app import create_app
from cityos.config import Settings
from cityos.core.migrate import upgrade
from cityos.demand import services as demand
from cityos.demo.loader import load_demo
from cityos.showcase import services as showcase
from tests.functional.browser import axe_violations, browser_page, need_chromium, serve

pytestmark = pytest.mark.browser

AIR = "201001-000001"  # 海口市空气质量监测数据


@dataclass
class Demo:
    url: str
    pages: list[str]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    need_chromium()
    data_dir = tmp_path_factory.mktemp("open-browser") / "data"
    settings = Settings(data_dir=data_dir, demo=True, sqlite_synchronous="NORMAL")
    settings.ensure_data_dir()
    upgrade(settings.resolved_database_url)
    load_demo(settings)
    app = create_app(settings, migrate=False)
    with app.state.db.session() as session:  # the demo has demands and approved apps
        demand_id = demand.recent(session, limit=1)[0].id
        app_id = showcase.recent(session, limit=1)[0].id
    pages = ["/open", "/open/datasets?q=空气质量", f"/open/datasets/{AIR}"]
    pages += ["/demands", f"/demands/{demand_id}", "/showcase", f"/showcase/{app_id}"]
    with serve(app) as url:
        yield Demo(url, pages)
    app.state.db.dispose()


def _settle(page: Any) -> None:
    page.wait_for_load_state("networkidle")
    if page.locator("#dataset-chart").count():
        page.wait_for_function("document.getElementById('dataset-chart').dataset.rendered")
    if page.locator("#dataset-map").count():
        page.wait_for_function("document.getElementById('dataset-map').dataset.loaded")


def _shot(page: Any, tmp_path: Path, path: str, suffix: str) -> None:
    name = path.strip("/").replace("/", "_").replace("?", "_") or "home"
    page.screenshot(path=str(tmp_path / f"{name}-{suffix}.png"), full_page=True)


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_portal_pages_have_no_serious_accessibility_violations(
    demo: Demo, tmp_path: Path, elder: bool
) -> None:
    with browser_page(viewport={"width": 1280, "height": 900}) as page:
        if elder:
            page.goto(demo.url + "/elder?on=1&next=/open")
            assert page.evaluate("document.documentElement.classList.contains('elder')")
        for path in demo.pages:
            page.goto(demo.url + path)
            _settle(page)
            _shot(page, tmp_path, path, "elder" if elder else "standard")
            violations = axe_violations(page)
            assert not violations, f"{path} (elder={elder}): " + "\n".join(violations)


def test_elder_mode_enlarges_text_and_targets_and_reflows_at_360px(demo: Demo) -> None:
    with browser_page(viewport={"width": 360, "height": 740}) as page:
        page.goto(demo.url + "/open")
        page.get_by_role("link", name="长辈版").first.click()
        page.wait_for_url("**/open")
        for path in demo.pages:
            page.goto(demo.url + path)
            _settle(page)
            assert page.evaluate("document.body.classList.contains('elder')"), path
            size = page.evaluate(
                "parseFloat(getComputedStyle(document.querySelector('main p')).fontSize)"
            )
            assert size >= 24, f"{path}: main text {size}px"
            heights = page.evaluate(
                "[...document.querySelectorAll('.button, button, .elder-toggle, input, select')]"
                ".filter(b => b.offsetParent).map(b => b.getBoundingClientRect().height)"
            )
            assert heights and min(heights) >= 60, f"{path}: button heights {heights}"
            wide = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            assert wide, f"{path}: scrolls sideways at 360 px in 长辈版"


def test_standard_pages_reflow_at_360px(demo: Demo) -> None:
    with browser_page(viewport={"width": 360, "height": 740}) as page:
        for path in demo.pages:
            page.goto(demo.url + path)
            _settle(page)
            wide = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            assert wide, f"{path}: scrolls sideways at 360 px"


def test_air_quality_chart_and_map_render(demo: Demo) -> None:
    with browser_page(viewport={"width": 1280, "height": 900}) as page:
        page.goto(f"{demo.url}/open/datasets/{AIR}")
        _settle(page)
        assert page.evaluate("document.getElementById('dataset-chart').dataset.rendered") == "1"
        assert page.locator("#dataset-chart canvas").count() >= 1
        assert page.locator("#chart-table tbody tr").count() > 10  # the numbers, as a table
        before = page.locator("#chart-table tbody tr").first.text_content()
        page.select_option("#chart-column", "aqi")
        assert (page.locator("#chart-table-value").text_content() or "").startswith("空气质量指数")
        assert page.locator("#chart-table tbody tr").first.text_content() != before
        assert page.evaluate("document.getElementById('dataset-map').dataset.loaded") == "1"
        assert page.locator("#dataset-map canvas").count() == 1
        assert page.evaluate("document.getElementById('dataset-map').cityosMap.loaded()")
        features = page.evaluate(
            "document.getElementById('dataset-map').cityosMap.querySourceFeatures('points').length"
        )
        assert features >= 1
        assert "地图上的地点：10 个" in page.locator("#map-status").inner_text()


def test_keyboard_reaches_search_box_and_downloads(demo: Demo) -> None:
    with browser_page(viewport={"width": 1280, "height": 900}) as page:
        page.goto(f"{demo.url}/open")
        reached = _tab_until(page, "document.activeElement.id === 'open-q'")
        assert reached, "Tab never reached the search box"
        page.keyboard.type("空气质量")
        page.keyboard.press("Enter")
        page.wait_for_url("**/open/datasets?q=*")
        page.goto(f"{demo.url}/open/datasets/{AIR}")
        _settle(page)
        reached = _tab_until(
            page, "(document.activeElement.getAttribute('href') || '').endsWith('/download.csv')"
        )
        assert reached, "Tab never reached the CSV download link"


def _tab_until(page: Any, condition: str, limit: int = 80) -> bool:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(condition):
            return True
    return False
