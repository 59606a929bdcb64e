"""The public open-data portal pages (/open …), sitemap, robots and the 长辈版 switch."""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree import ElementTree as ET

from fastapi.testclient import TestClient

from cityos.auth.views import DEMO_PASSWORD
from cityos.core.web import safe_next
from cityos.opendata.seo import jsonld_script
from cityos.opendata.views import snippet
from tests.conftest import login

AIR = "201001-000001"  # 海口市空气质量监测数据: 无条件开放, records with coordinates
CONDITIONAL = "212001-000001"  # 治安案件统计: 有条件开放
NOT_OPEN = "101001-000001"  # 海口市人口基础信息: 不予开放
UNPUBLISHED = "203003-000001"  # 琼州海峡客滚运输班次: 无条件开放 but only submitted
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _jsonld(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert match, "no JSON-LD on the page"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def _section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    return html[start : html.index("</section>", start)]


# --------------------------------------------------------------------------- home and search


def test_open_home_has_search_counts_and_a_demand_button(demo_client: TestClient) -> None:
    page = demo_client.get("/open")
    assert page.status_code == 200
    html = page.text
    assert 'action="/open/datasets"' in html and "例如：空气质量、公交站点" in html
    assert "开放数据集" in html and "无条件开放" in html and "有条件开放" in html
    assert "热门数据集" in html and "/open/datasets/" in html
    assert 'href="/demands/new"' in html and "提出数据需求" in html
    assert "基于开放数据的应用" in html


def test_search_finds_air_quality_in_chinese_with_snippets(demo_client: TestClient) -> None:
    page = demo_client.get("/open/datasets", params={"q": "空气质量"})
    assert page.status_code == 200
    assert f'href="/open/datasets/{AIR}"' in page.text
    assert "<mark>空气质量</mark>" in page.text
    # facets of the open catalogue link back to the open search
    assert 'href="/open/datasets?q=%E7%A9%BA%E6%B0%94%E8%B4%A8%E9%87%8F&amp;open_type=' in page.text


def test_search_lists_open_datasets_only(demo_client: TestClient) -> None:
    page = demo_client.get("/open/datasets", params={"sort": "code"})
    everything = demo_client.get("/open/datasets", params={"sort": "code", "page": "2"})
    listed = page.text + everything.text
    assert f'href="/open/datasets/{CONDITIONAL}"' in listed or "有条件开放" in listed
    for hidden in (NOT_OPEN, UNPUBLISHED):
        assert f"/open/datasets/{hidden}" not in listed
    conditional = demo_client.get("/open/datasets", params={"open_type": "conditional"})
    assert "无条件开放</span>" not in conditional.text
    assert (
        f'href="/open/datasets/{CONDITIONAL}"' in conditional.text or "下一页" in conditional.text
    )


def test_search_facet_filters_and_bad_values(demo_client: TestClient) -> None:
    page = demo_client.get("/open/datasets", params={"district": "460108", "q": "空气质量"})
    assert page.status_code == 200 and f"/open/datasets/{AIR}" in page.text
    assert 'aria-current="true"' in page.text  # the chosen facet is marked
    bad = demo_client.get("/open/datasets", params={"district": "999999"})
    assert bad.status_code == 200
    assert 'role="alert"' in bad.text and "999999" in bad.text
    bad_sort = demo_client.get("/open/datasets", params={"sort": "nope"})
    assert bad_sort.status_code == 200 and 'role="alert"' in bad_sort.text


def test_zero_results_offer_a_demand_with_the_words(demo_client: TestClient) -> None:
    page = demo_client.get("/open/datasets", params={"q": "火星基地气象"})
    assert page.status_code == 200
    assert "没有匹配的开放数据集" in page.text
    assert "/demands/new?title=%E7%81%AB%E6%98%9F" in page.text


# --------------------------------------------------------------------------- dataset page


def test_dataset_page_sections(demo_client: TestClient) -> None:
    page = demo_client.get(f"/open/datasets/{AIR}")
    assert page.status_code == 200
    html = page.text
    assert "<h1" in html and "海口市空气质量监测数据" in html
    assert "无条件开放" in html and "实时" in html and "市生态环境局" in html
    assert 'class="meta"' in html and "浏览次数" in html and "下载次数" in html
    preview = _section(html, "preview")
    assert '<th scope="col" title="aqi">空气质量指数</th>' in preview
    assert preview.count("<tr>") == 11  # header + 10 rows
    assert 'id="dataset-chart"' in html and "/static/vendor/echarts.min.js" in html
    assert "&#34;kind&#34;: &#34;line&#34;" in html  # over the observation time
    assert 'id="chart-column"' in html and 'id="chart-table"' in html
    assert 'id="dataset-map"' in html and "/static/vendor/maplibre-gl.js" in html
    assert "&#34;kind&#34;: &#34;points&#34;" in html
    for fmt in ("csv", "json", "xlsx", "geojson"):
        assert f'href="/api/v1/open/datasets/{AIR}/download.{fmt}"' in html
    api = _section(html, "api")
    assert f"/api/v1/open/datasets/{AIR}/records" in api
    assert "Authorization: Bearer cos_" in api and "import httpx" in api
    assert "station_code=HK-AQ-" in api  # a real filter on a real field
    assert 'href="/open/terms"' in html


def test_dataset_page_json_ld(demo_client: TestClient) -> None:
    data = _jsonld(demo_client.get(f"/open/datasets/{AIR}").text)
    required = {
        "name", "description", "url", "identifier", "keywords", "creator", "publisher",
        "license", "isAccessibleForFree", "inLanguage", "dateModified", "datePublished",
        "spatialCoverage", "distribution", "variableMeasured",
    }  # fmt: skip
    assert required <= set(data)
    assert data["@type"] == "Dataset" and data["identifier"] == AIR
    assert data["publisher"]["@type"] == "Organization" and data["publisher"]["name"]
    assert data["license"].endswith("/open/terms") and data["inLanguage"] == "zh-CN"
    assert data["spatialCoverage"] == {"@type": "Place", "name": "海口市"}
    formats = {d["encodingFormat"] for d in data["distribution"]}
    assert {"text/csv", "application/json", "application/geo+json"} <= formats
    assert all(d["@type"] == "DataDownload" and d["contentUrl"] for d in data["distribution"])
    assert "空气质量指数" in {v["name"] for v in data["variableMeasured"]}


def test_json_ld_cannot_close_its_script() -> None:
    html = str(jsonld_script({"name": "</script><script>alert(1)</script>"}))
    assert html.count("</script>") == 1 and "<script>alert" not in html
    assert json.loads(html.split(">", 1)[1].rsplit("<", 1)[0])["name"].startswith("</script>")


def test_conditional_dataset_has_no_preview_and_offers_to_apply(demo_client: TestClient) -> None:
    html = demo_client.get(f"/open/datasets/{CONDITIONAL}").text
    assert "有条件开放" in html and 'id="conditional"' in html
    assert 'id="preview"' not in html and 'id="dataset-chart"' not in html
    assert f'href="/api/v1/open/datasets/{CONDITIONAL}/download.csv"' not in html
    assert f"/login?next=/open/datasets/{CONDITIONAL}/apply" in html
    login(demo_client, "citizen", DEMO_PASSWORD)
    signed_in = demo_client.get(f"/open/datasets/{CONDITIONAL}").text
    assert f'href="/open/datasets/{CONDITIONAL}/apply"' in signed_in and "申请使用" in signed_in


def test_unknown_closed_or_unpublished_dataset_is_a_404_page(demo_client: TestClient) -> None:
    for code in ("nope-000000", NOT_OPEN, UNPUBLISHED):
        page = demo_client.get(f"/open/datasets/{code}")
        assert page.status_code == 404, code
        assert page.headers["content-type"].startswith("text/html")


def test_district_boundaries_are_served_and_cacheable(demo_client: TestClient) -> None:
    geo = demo_client.get("/open/geo/haikou-districts.geojson")
    assert geo.status_code == 200 and "max-age" in geo.headers["cache-control"]
    assert len(geo.json()["features"]) == 4


def test_terms_page_in_both_languages(demo_client: TestClient) -> None:
    assert "开放数据使用协议" in demo_client.get("/open/terms").text
    assert "Open data terms of use" in demo_client.get("/open/terms?lang=en").text
    demo_client.get("/?lang=zh-Hans")


# --------------------------------------------------------------------------- sitemap and robots


def test_sitemap_lists_open_datasets_only(demo_client: TestClient) -> None:
    response = demo_client.get("/sitemap.xml")
    assert response.status_code == 200 and "xml" in response.headers["content-type"]
    root = ET.fromstring(response.content)
    urls = {u.findtext(f"{SITEMAP_NS}loc", ""): u for u in root.iter(f"{SITEMAP_NS}url")}
    paths = {loc.split("://", 1)[1].split("/", 1)[1] for loc in urls}
    assert {"open", "open/datasets", "demands", "showcase"} <= paths
    assert f"open/datasets/{AIR}" in paths and f"open/datasets/{CONDITIONAL}" in paths
    assert f"open/datasets/{NOT_OPEN}" not in paths and f"open/datasets/{UNPUBLISHED}" not in paths
    air = next(u for loc, u in urls.items() if loc.endswith(AIR))
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", air.findtext(f"{SITEMAP_NS}lastmod", ""))


def test_robots(demo_client: TestClient) -> None:
    text = demo_client.get("/robots.txt").text
    assert re.search(r"^Sitemap: http\S+/sitemap\.xml$", text, re.M)
    for path in ("/console", "/workbench", "/api/v1/open/datasets/*/download"):
        assert f"Disallow: {path}" in text


# --------------------------------------------------------------------------- 长辈版


def test_elder_mode_switch_sets_a_cookie_and_a_class(client: TestClient) -> None:
    page = client.get("/open")
    assert "长辈版" in page.text and 'class="elder"' not in page.text
    switched = client.get("/elder?on=1&next=/open/datasets?q=x", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/open/datasets?q=x"
    cookie = switched.headers["set-cookie"]
    assert "cityos_elder=1" in cookie and "Max-Age=31536000" in cookie
    assert "samesite=lax" in cookie.lower()
    elder = client.get("/open")
    assert '<html lang="zh-Hans" class="elder">' in elder.text and 'class="elder ' in elder.text
    assert "标准版" in elder.text
    client.get("/elder?on=0&next=/", follow_redirects=False)
    assert 'class="elder"' not in client.get("/login").text


def test_elder_switch_only_returns_to_local_pages(client: TestClient) -> None:
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:x"):
        response = client.get("/elder", params={"on": "1", "next": target}, follow_redirects=False)
        assert response.headers["location"] == "/", target
    assert safe_next("/open?x=1") == "/open?x=1"


def test_snippet_marks_the_words_around_the_first_match() -> None:
    text = "甲" * 200 + "空气质量监测" + "乙" * 200
    parts = snippet(text, "空气质量")
    assert ("空气质量", True) in parts
    joined = "".join(p for p, _ in parts)
    assert joined.startswith("…") and joined.endswith("…") and len(joined) <= 142
    assert snippet("短文本", "") == [("短文本", False)]


def test_nav_and_home_link_to_open_data(client: TestClient) -> None:
    home = client.get("/")
    assert 'href="/open"' in home.text and 'href="/demands"' in home.text
    assert 'href="/showcase"' in home.text and "/notifications" not in home.text


def _item(field: str, data_type: str, name: str = "") -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(field=field, name=name or field, data_type=data_type, unit="")


def test_chart_and_map_choices_follow_the_items() -> None:
    from cityos.opendata import charts

    over_time = [_item("day", "date"), _item("aqi", "integer"), _item("longitude", "number")]
    spec = charts.chart_spec([*over_time, _item("latitude", "number")])
    assert spec is not None and spec.kind == "line" and spec.x.field == "day"
    assert [c.field for c in spec.series] == ["aqi"]  # coordinates are not measures
    by_label = charts.chart_spec([_item("station_name", "string"), _item("pm25", "number")])
    assert by_label is not None and by_label.kind == "bar" and by_label.x.field == "station_name"
    assert charts.chart_spec([_item("name", "string")]) is None
    points = charts.map_spec([_item("longitude", "number"), _item("latitude", "number")], [])
    assert points is not None and points.kind == "points"
    by_district = charts.map_spec([_item("district", "string")], None)
    assert by_district is not None and by_district.kind == "districts"
    covered = charts.map_spec([_item("x", "string")], ["460105", "110101"])
    assert covered is not None and covered.districts == ["460105"]
    assert charts.map_spec([_item("x", "string")], []) is None
    assert charts.has_geometry([_item("district", "string")])
    assert not charts.has_geometry([_item("longitude", "number")])
