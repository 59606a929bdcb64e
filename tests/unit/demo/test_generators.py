"""The demo's generators: valid codes, points inside their districts, consistent values, the same
output on every run. The validators here are written independently of the generators."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cityos.auth.views import DEMO_ACCOUNTS
from cityos.catalog.models import FORMATS, OPEN_TYPES, SHARE_METHODS, SHARE_TYPES, UPDATE_CYCLES
from cityos.demo import records_series
from cityos.demo.catalogue import RESOURCES
from cityos.demo.orgs import ACCOUNTS, ORGS, all_accounts
from cityos.demo.records import GENERATORS
from cityos.directory.codes import is_valid_uscc

NOW = datetime(2025, 7, 1, 10, 37, 12, tzinfo=UTC)
GEOJSON = (
    Path(__file__).resolve().parents[3] / "cityos" / "data" / "geo" / "haikou-districts.geojson"
)


@pytest.fixture(scope="module")
def generated() -> dict[str, list[dict[str, Any]]]:
    return {name: make(NOW) for name, make in GENERATORS.items()}


# ---- independent validators -------------------------------------------------------------------


def valid_id_number(number: str) -> bool:
    """GB 11643: 17 digits + check; the birth date (digits 7–14) is a real date."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(number[:17], weights, strict=True))
    if "10X98765432"[total % 11] != number[17]:
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return True


def valid_org_code(code9: str) -> bool:
    """GB 11714 organisation code (characters 9–17 of a USCC)."""
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    values = [int(c) if c.isdigit() else ord(c) - 55 for c in code9[:8]]
    check = 11 - sum(v * w for v, w in zip(values, weights, strict=True)) % 11
    return code9[8] == {10: "X", 11: "0"}.get(check, str(check))


def _inside_ring(ring: list[list[float]], x: float, y: float) -> bool:
    """Winding number (a different algorithm from the generator's even-odd ray casting)."""
    winding = 0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = (x2 - x1) * (y - y1) - (x - x1) * (y2 - y1)
        if y1 <= y < y2 and cross > 0:
            winding += 1
        elif y2 <= y < y1 and cross < 0:
            winding -= 1
    return winding != 0


@pytest.fixture(scope="module")
def district_shapes() -> dict[str, list[list[list[list[float]]]]]:
    data = json.loads(GEOJSON.read_text(encoding="utf-8"))
    return {str(f["properties"]["adcode"]): f["geometry"]["coordinates"] for f in data["features"]}


def inside(shapes: dict[str, Any], district: str, lon: float, lat: float) -> bool:
    return any(
        _inside_ring(polygon[0], lon, lat)
        and not any(_inside_ring(h, lon, lat) for h in polygon[1:])
        for polygon in shapes[district]
    )


# ---- people and enterprises ------------------------------------------------------------------


def test_resident_id_numbers_are_valid_unique_and_consistent(generated: dict[str, Any]) -> None:
    residents = generated["residents"]
    assert len(residents) >= 2000
    numbers = [r["id_number"] for r in residents]
    assert len(set(numbers)) == len(numbers)
    for r in residents:
        number = r["id_number"]
        assert valid_id_number(number), number
        assert number[6:14] == r["birth_date"].replace("-", "")
        assert r["gender"] == ("男" if int(number[16]) % 2 else "女")
        assert number[:6] == r["birthplace_code"]
        assert r["district"] in {"460105", "460106", "460107", "460108"}
        assert 2 <= len(r["name"]) <= 4
    haikou = sum(r["birthplace_code"].startswith("4601") for r in residents)
    assert haikou > len(residents) / 2  # mostly born in Haikou, some elsewhere


def test_the_validator_rejects_a_wrong_check_digit(generated: dict[str, Any]) -> None:
    number = generated["residents"][0]["id_number"]
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    assert not valid_id_number(wrong)
    assert not valid_id_number(number[:10] + "1332" + number[14:])  # 13th month


def test_enterprise_usccs_are_valid_and_unique(generated: dict[str, Any]) -> None:
    rows = generated["enterprises"]
    assert len(rows) >= 500
    codes = [r["uscc"] for r in rows]
    assert len(set(codes)) == len(codes)
    assert len({r["name"] for r in rows}) == len(rows)
    for code in codes:
        assert is_valid_uscc(code), code
        assert code.startswith("91") and code[2:6] == "4601"
        assert valid_org_code(code[8:17]), code


def test_organisations_have_valid_distinct_usccs() -> None:
    codes = [o.uscc for o in ORGS]
    assert len(ORGS) >= 20 and len(set(codes)) == len(codes)
    assert len({o.name for o in ORGS}) == len(ORGS)
    for org in ORGS:
        assert is_valid_uscc(org.uscc), org
        assert valid_org_code(org.uscc[8:17])
        head = {"government": "11", "enterprise": "91", "social": "51"}[org.kind]
        assert org.uscc.startswith(head + org.district)
    assert [o.key for o in ORGS if o.is_bureau] == ["bigdata"]
    assert {o.kind for o in ORGS} == {"government", "enterprise", "social"}


def test_accounts_are_exactly_the_advertised_demo_accounts_plus_officers() -> None:
    assert [a.username for a in ACCOUNTS] == [name for name, _ in DEMO_ACCOUNTS]
    every = all_accounts()
    assert len({a.username for a in every}) == len(every)
    officers = {a.org for a in every if a.role == "data_officer"}
    assert officers >= {o.key for o in ORGS if not o.is_bureau}
    roles = {a.username: a.role for a in every}
    assert roles["admin"] == "admin" and roles["citizen"] == "public"
    assert roles["officer_water"] == roles["officer_health"] == "data_officer"


# ---- places ----------------------------------------------------------------------------------

PLACE_GENERATORS = (
    "enterprises",
    "schools",
    "hospitals",
    "shelters",
    "bus_stops",
    "parking",
    "job_agencies",
    "waterlogging",
    "air_quality",
)


@pytest.mark.parametrize("name", PLACE_GENERATORS)
def test_points_lie_inside_their_district(
    name: str, generated: dict[str, Any], district_shapes: dict[str, Any]
) -> None:
    rows = generated[name]
    assert rows
    for row in rows:
        lon, lat = row["longitude"], row["latitude"]
        assert inside(district_shapes, row["district"], lon, lat), row
        others = [d for d in district_shapes if d != row["district"]]
        assert not any(inside(district_shapes, d, lon, lat) for d in others), row


def test_gauges_lie_inside_haikou(
    generated: dict[str, Any], district_shapes: dict[str, Any]
) -> None:
    districts = {code: district for code, _, district, _ in records_series.GAUGES}
    for row in generated["water_levels"]:
        assert inside(
            district_shapes, districts[row["station_code"]], row["longitude"], row["latitude"]
        )


def test_shelters_have_capacity(generated: dict[str, Any]) -> None:
    assert all(r["capacity"] > 0 and r["area_m2"] > 0 for r in generated["shelters"])
    assert len({r["shelter_type"] for r in generated["shelters"]}) >= 3


# ---- time series -----------------------------------------------------------------------------

PM25_BANDS = [
    (0, 0),
    (35, 50),
    (75, 100),
    (115, 150),
    (150, 200),
    (250, 300),
    (350, 400),
    (500, 500),
]


def iaqi_pm25(c: float) -> int:
    for (c0, i0), (c1, i1) in itertools.pairwise(PM25_BANDS):
        if c <= c1:
            return math.ceil((i1 - i0) / (c1 - c0) * (c - c0) + i0)
    return 500


def band(value: int) -> str:
    for top, name in (
        (50, "优"),
        (100, "良"),
        (150, "轻度污染"),
        (200, "中度污染"),
        (300, "重度污染"),
    ):
        if value <= top:
            return name
    return "严重污染"


def test_air_quality_is_hourly_for_a_week_with_consistent_aqi(generated: dict[str, Any]) -> None:
    rows = generated["air_quality"]
    stations = {r["station_code"] for r in rows}
    assert len(stations) >= 10 and len(rows) == len(stations) * 7 * 24
    last = max(datetime.fromisoformat(r["observed_at"]) for r in rows)
    assert last == NOW.replace(minute=0, second=0)  # "now" rounded to the hour
    for r in rows:
        assert r["aqi"] >= iaqi_pm25(r["pm25"])
        assert r["level"] == band(r["aqi"])
        assert (r["primary_pollutant"] is None) == (r["aqi"] <= 50)
        if r["primary_pollutant"] == "PM2.5":
            assert r["aqi"] == iaqi_pm25(r["pm25"])
    assert {r["level"] for r in rows} >= {"优", "良"}


def test_air_quality_has_a_diurnal_cycle(generated: dict[str, Any]) -> None:
    by_hour: dict[int, list[float]] = {}
    for r in generated["air_quality"]:
        by_hour.setdefault(datetime.fromisoformat(r["observed_at"]).hour, []).append(r["o3"])
    mean = {h: sum(v) / len(v) for h, v in by_hour.items()}
    assert mean[14] > 1.8 * mean[3]  # afternoon ozone peak, night low


def test_water_levels_are_hourly_for_30_days_at_four_gauges(generated: dict[str, Any]) -> None:
    rows = generated["water_levels"]
    assert len({r["station_code"] for r in rows}) == 4
    assert len(rows) == 4 * 30 * 24
    times = sorted({datetime.fromisoformat(r["observed_at"]) for r in rows})
    assert all(b - a == timedelta(hours=1) for a, b in itertools.pairwise(times))
    lt = [r["water_level"] for r in rows if r["station_code"] == "NDJ-LT"]
    assert max(lt) - min(lt) > 1.5  # the flood after the storm shows
    assert all(r["trend"] in ("涨", "落", "平") for r in rows)


def test_tap_water_is_deliberately_overdue(generated: dict[str, Any]) -> None:
    last = max(date.fromisoformat(r["day"]) for r in generated["tap_water"])
    assert (NOW.date() - last).days >= 2
    rainfall_last = max(date.fromisoformat(r["day"]) for r in generated["rainfall"])
    assert rainfall_last == NOW.date() - timedelta(days=1)


def test_typhoons_are_known_storms() -> None:
    rows = GENERATORS["typhoons"](NOW)
    names = {r["name_zh"] for r in rows}
    assert {"威马逊", "莎莉嘉", "摩羯"} <= names
    assert all(
        datetime.fromisoformat(r["landfall_at"]).year == 2000 + int(r["number"][:2]) for r in rows
    )


# ---- the catalogue ---------------------------------------------------------------------------


def test_catalogue_covers_every_type_cycle_and_format() -> None:
    assert len(RESOURCES) >= 60
    published = [r for r in RESOURCES if r.status == "published"]
    assert {r.share_type for r in published} == set(SHARE_TYPES)
    assert {r.open_type for r in published} == set(OPEN_TYPES)
    assert {r.update_cycle for r in published} == set(UPDATE_CYCLES)
    assert {r.format for r in published} == set(FORMATS)
    assert {r.share_method for r in RESOURCES} == set(SHARE_METHODS)
    statuses = [r.status for r in RESOURCES]
    assert statuses.count("submitted") >= 2 and statuses.count("rejected") == 1
    assert statuses.count("draft") >= 2
    assert all(r.review_comment for r in RESOURCES if r.status == "rejected")
    for r in RESOURCES:
        if r.share_type == "none":
            assert "《中华人民共和国" in r.share_basis, r.key
    names = {r.name for r in RESOURCES}
    assert len(names) == len(RESOURCES)
    for wanted in (
        "空气质量监测数据",
        "南渡江水位监测数据",
        "人口基础信息",
        "企业登记信息",
        "学校名录",
        "医疗机构名录",
        "应急避难场所",
        "公交站点",
        "停车场",
        "台风历史记录",
        "降雨量",
        "供水水质",
        "就业服务机构",
    ):
        assert any(wanted in n for n in names), wanted


def test_named_resources_have_the_promised_attributes() -> None:
    by_key = {r.key: r for r in RESOURCES}
    air = by_key["air_quality"]
    assert (air.provider, air.open_type, air.update_cycle) == ("env", "unconditional", "realtime")
    assert by_key["water_levels"].provider == "water"
    people = by_key["residents"]
    assert (people.provider, people.share_type, people.open_type) == (
        "police",
        "conditional",
        "none",
    )
    sensitivity = {i.field: i.sensitivity for i in people.items}
    assert sensitivity["id_number"] == "sensitive_personal"
    assert by_key["enterprises"].provider == "market"


def test_record_fields_match_the_items(generated: dict[str, Any]) -> None:
    for spec in RESOURCES:
        if spec.records:
            fields = {i.field for i in spec.items}
            rows = generated[spec.records]
            assert rows, spec.key
            assert all(set(row) == fields for row in rows), spec.key
            assert set(spec.key_fields) <= fields
            if spec.key_fields:
                keys = [tuple(row[k] for k in spec.key_fields) for row in rows]
                assert len(set(keys)) == len(keys), spec.key


# ---- determinism -----------------------------------------------------------------------------


def digest(data: dict[str, list[dict[str, Any]]]) -> str:
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def test_generation_is_deterministic(generated: dict[str, Any]) -> None:
    again = {name: make(NOW) for name, make in GENERATORS.items()}
    assert again == generated


def test_generation_is_the_same_in_another_process(generated: dict[str, Any]) -> None:
    script = (
        "import hashlib, json, sys\n"
        "from datetime import datetime\n"
        "from cityos.demo.records import GENERATORS\n"
        f"now = datetime.fromisoformat({NOW.isoformat()!r})\n"
        "data = {n: g(now) for n, g in GENERATORS.items()}\n"
        "print(hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == digest(generated)


def test_live_series_move_with_now_and_overlap_consistently() -> None:
    later = NOW + timedelta(hours=3)
    first = records_series.air_quality(NOW)
    second = records_series.air_quality(later)
    assert first[-1]["observed_at"] != second[-1]["observed_at"]
    overlap = {(r["station_code"], r["observed_at"]): r for r in first}
    shared = [r for r in second if (r["station_code"], r["observed_at"]) in overlap]
    assert shared and all(overlap[(r["station_code"], r["observed_at"])] == r for r in shared)
