"""The demo's 有条件开放 and usage: records for 治安案件统计 (public_order, open on conditions),
a pending application by the demo developer in 市公安局's queue, and about 60 days of usage
history of the open datasets with records. Through the modules' services; safe to repeat
(records only into an empty datastore, the application only when the developer has none,
usage only when none was counted yet)."""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from typing import Any

from cityos.auth.principal import Principal
from cityos.catalog import services as catalog
from cityos.core.db import Database
from cityos.datastore import services as datastore
from cityos.demo.orgs import ORG_BY_KEY
from cityos.opendata import applications, usage

log = logging.getLogger(__name__)

CONDITIONAL = "public_order"
DEVELOPER = "developer"
USAGE_DAYS = 60
DISTRICTS = {"460105": 0.8, "460106": 1.35, "460107": 1.0, "460108": 1.25}  # 秀英 龙华 琼山 美兰
# typical daily page views of a dataset; air quality is the most used open data of Haikou
POPULARITY = {
    "air_quality": 260,
    "air_daily": 140,
    "water_levels": 120,
    "rainfall": 90,
    "bus_stops": 110,
    "shelters": 80,
    "typhoons": 60,
    "parking": 70,
    "enterprises": 75,
    "public_order": 35,
}


def public_order_records() -> list[dict[str, Any]]:
    """治安案件统计: cases and solved cases per district and quarter, 2023Q1–2025Q4."""
    rng = random.Random(4601)
    rows = []
    for year in (2023, 2024, 2025):
        for quarter in range(1, 5):
            season = (1.12, 0.95, 1.05, 0.92)[quarter - 1] * (1 - 0.05 * (year - 2023))
            for district, weight in DISTRICTS.items():
                cases = round(420 * weight * season * rng.uniform(0.9, 1.1))
                solved = round(cases * rng.uniform(0.82, 0.93))
                rows.append(
                    {
                        "quarter": f"{year}Q{quarter}",
                        "district": district,
                        "cases": cases,
                        "solved": solved,
                    }
                )
    return rows


def ensure_opendata(
    db: Database, resources: dict[str, tuple[str, str]], principals: dict[str, Principal]
) -> None:
    _ensure_records(db, resources, principals)
    _ensure_application(db, resources, principals)
    _ensure_usage(db, resources)


def _ensure_records(
    db: Database, resources: dict[str, tuple[str, str]], principals: dict[str, Principal]
) -> None:
    resource_id, status = resources[CONDITIONAL]
    table = datastore.table_info(db, resource_id)
    if status != "published" or (table is not None and table.row_count):
        return
    officer = principals[ORG_BY_KEY["police"].officer]
    batch = datastore.load_records(
        db, resource_id, public_order_records(), actor=officer, mode="append"
    )
    if batch.rows_rejected:
        log.warning("demo %s: %s rows rejected", CONDITIONAL, batch.rows_rejected)


def _ensure_application(
    db: Database, resources: dict[str, tuple[str, str]], principals: dict[str, Principal]
) -> None:
    resource_id, status = resources[CONDITIONAL]
    developer = principals.get(DEVELOPER)
    if status != "published" or developer is None or developer.user_id is None:
        return
    start = applications.today()
    data = applications.ApplicationIn(
        organisation="海南椰城数据科技有限公司",
        contact="李工 0898-66000000（演示）",
        purpose="研究海口各区治安案件受理与查处的季度变化，为“平安社区”小程序提供分区安全指数，"
        "只展示区级汇总结果，不做个体识别。（演示申请）",
        scenario="平安社区小程序的分区安全指数页面",
        valid_from=start,
        valid_until=start + timedelta(days=180),
        agree=True,
    )
    with db.session() as session:
        if applications.latest_for(session, developer.user_id, resource_id) is not None:
            return
        applications.submit(session, developer, resource_id, data)


def _open_with_records(db: Database, resources: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Demo key → resource id of the published open datasets that hold records."""
    found: dict[str, str] = {}
    with db.session() as session:
        rows = catalog.get_resources_internal(session, [rid for rid, _ in resources.values()])
    for key, (resource_id, _status) in resources.items():
        resource = rows.get(resource_id)
        if resource is None or resource.status != "published":
            continue
        if resource.open_type not in ("unconditional", "conditional"):
            continue
        table = datastore.table_info(db, resource_id)
        if table is not None and table.row_count:
            found[key] = resource_id
    return found


def usage_history(datasets: dict[str, str], today_epoch_day: int) -> dict[usage.Key, int]:
    """Seeded daily views, downloads and API calls over the last USAGE_DAYS days."""
    rng = random.Random(2025)
    counts: dict[usage.Key, int] = {}
    for key in sorted(datasets):
        base = POPULARITY.get(key, 40)
        for back in range(USAGE_DAYS, 0, -1):
            day = today_epoch_day - back
            weekend = 0.7 if (day + 3) % 7 in (5, 6) else 1.0  # epoch day 0 was a Thursday
            growth = 1 + 0.004 * (USAGE_DAYS - back)
            views = round(base * weekend * growth * rng.uniform(0.75, 1.25))
            resource_id = datasets[key]
            counts[(resource_id, day, "view")] = views
            counts[(resource_id, day, "download")] = round(views * rng.uniform(0.08, 0.16))
            counts[(resource_id, day, "api")] = round(views * rng.uniform(2.5, 6.0))
    return counts


def _ensure_usage(db: Database, resources: dict[str, tuple[str, str]]) -> None:
    datasets = _open_with_records(db, resources)
    if not datasets:
        return
    with db.session() as session:
        if usage.per_dataset(session, days=None):
            return  # counted before (or real use): leave it
        usage.add_counts(session, usage_history(datasets, usage.shanghai_epoch_day()))
