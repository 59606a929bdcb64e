"""Catalogue search over N resources: our ``catalog.services.search`` against a naive LIKE scan.

The resources are created through ``catalog.services.create_resource`` and the workflow
(submit → confirm → publish), in batches of one transaction each; the creation rate is reported
too. The SQLite catalogue is cached in bench/.work (creation is then not re-measured).
"""

from __future__ import annotations

import random
import time
from functools import partial
from typing import Any

from sqlalchemy import text

from bench import city
from bench.common import WORK, Result, log, percentile, timed
from cityos.auth.principal import ANONYMOUS, Principal
from cityos.catalog import services as catalog
from cityos.catalog.schemas import ItemIn, ResourceIn

TARGET_MS = 30.0
BATCH = 200
DEPARTMENTS = (
    "海口市公安局",
    "海口市生态环境局",
    "海口市水务局",
    "海口市卫生健康委员会",
    "海口市教育局",
    "海口市民政局",
    "海口市应急管理局",
    "海口市气象局",
    "海口市自然资源和规划局",
    "海口市住房和城乡建设局",
)
# topic → resource class
TOPICS = {
    "空气质量": "201001",
    "水位": "202001",
    "学校": "205001",
    "医院": "204001",
    "公交": "203001",
    "停车": "203002",
    "人口": "101001",
    "企业": "102001",
    "降雨": "208001",
    "台风": "208002",
    "供水": "202002",
    "污染源": "201003",
    "养老": "206002",
    "救助": "206001",
    "就业": "210001",
    "社保": "210002",
    "消防": "212002",
    "食品安全": "211002",
    "不动产": "103003",
    "地质灾害": "207002",
    "避难场所": "207001",
    "河道": "202003",
    "噪声": "201001",
    "充电桩": "203002",
    "保障房": "209001",
    "工地": "209002",
    "景区": "213",
    "垃圾分类": "214",
    "信用": "104001",
    "证照": "105001",
}
DISTRICTS = {"460105": "秀英区", "460106": "龙华区", "460107": "琼山区", "460108": "美兰区"}
SUFFIXES = ("信息", "数据", "监测数据", "统计", "名录", "分布", "实时数据", "年度报告", "台账")
ITEMS = (
    ("name", "名称"),
    ("address", "地址"),
    ("lng", "经度"),
    ("lat", "纬度"),
    ("observed_at", "监测时间"),
    ("value", "监测值"),
    ("status", "状态"),
    ("phone", "联系电话"),
    ("district", "所属区"),
    ("total", "数量"),
)
CYCLES = ("realtime", "daily", "weekly", "monthly", "yearly")
QUERIES: tuple[tuple[str, str, dict[str, list[str]]], ...] = (
    ("one word", "空气质量", {}),
    ("one word", "学校", {}),
    ("one word", "台风", {}),
    ("one word", "医院", {}),
    ("two words", "美兰区 停车", {}),
    ("two words", "降雨 监测", {}),
    ("two words", "企业 信用", {}),
    ("word + facet", "水位", {"district": ["460108"]}),
    ("word + facet", "人口", {"class": ["101"]}),
    ("word + facet", "公交", {"open_type": ["unconditional"]}),
    ("facets only", "", {"district": ["460106"]}),
    ("facets only", "", {"class": ["2"], "update_cycle": ["daily"]}),
    ("facets only", "", {}),
)


def _resource(rng: random.Random, providers: list[str]) -> tuple[ResourceIn, str, str]:
    topic, class_code = rng.choice(list(TOPICS.items()))
    code, district = rng.choice(list(DISTRICTS.items()))
    year = rng.choice(("", "", "2023年", "2024年"))
    name = f"{year}{district}{topic}{rng.choice(SUFFIXES)}"
    items = rng.sample(ITEMS, rng.randint(3, 6))
    share = rng.choice(("unconditional", "unconditional", "conditional", "none"))
    data = ResourceIn(
        name=name,
        class_code=class_code,
        provider_id=rng.choice(providers),
        summary=f"{district}{topic}相关{rng.choice(SUFFIXES)}，包括"
        + "、".join(n for _, n in items)
        + f"等信息项，由部门按{rng.choice(('日', '周', '月'))}汇总更新。",
        share_type=share,
        share_basis="《中华人民共和国个人信息保护法》" if share == "none" else "",
        open_type=rng.choice(("unconditional", "conditional", "none")),
        update_cycle=rng.choice(CYCLES),
        keywords=[topic, *rng.sample(list(TOPICS), rng.randint(1, 3))],
        districts=[code] if rng.random() < 0.8 else list(DISTRICTS),
        items=[ItemIn(field=f, name=n) for f, n in items],
    )
    status = rng.choices(("published", "confirmed", "submitted", "draft"), (7, 1, 1, 1))[0]
    return data, status, topic


def _providers(inst: city.Instance) -> list[str]:
    """The departments that provide the resources (created on first use)."""
    from cityos.directory.services import list_organisations

    with inst.db.session() as session:
        known = {o.name: o.id for o in list_organisations(session)}
    return [
        known.get(name) or city.add_org(inst.db, 100 + i, name)
        for i, name in enumerate(DEPARTMENTS)
    ] + [inst.dept_id]


def populate(inst: city.Instance, count: int, seed: int = 42) -> float:
    """Create ``count`` resources; returns resources per second."""
    rng = random.Random(seed)
    providers = _providers(inst)
    steps = {
        "published": ("submit", "confirm", "publish"),
        "confirmed": ("submit", "confirm"),
        "submitted": ("submit",),
        "draft": (),
    }
    start = time.perf_counter()
    done = 0
    while done < count:
        with inst.db.session() as session:
            for _ in range(min(BATCH, count - done)):
                data, status, _topic = _resource(rng, providers)
                res = catalog.create_resource(session, data, inst.admin)
                for action in steps[status]:
                    catalog.transition(session, res.id, action, inst.admin)
                done += 1
        if done % 2000 == 0:
            log(f"  {done:,} resources ({done / (time.perf_counter() - start):.0f}/s)")
    return count / (time.perf_counter() - start)


def naive(inst: city.Instance, q: str, filters: dict[str, list[str]]) -> int:
    """Naive substring scan: every word LIKE '%w%' over name || summary, published only."""
    where = ["status = 'published'"]
    params: dict[str, Any] = {}
    for i, word in enumerate(q.split()):
        where.append(f"(name LIKE :w{i} OR summary LIKE :w{i})")
        params[f"w{i}"] = f"%{word}%"
    for key, values in filters.items():
        column = {"class": "class_code", "district": "CAST(districts AS TEXT)"}.get(key, key)
        where.append(f"{column} LIKE :f_{key}")
        params[f"f_{key}"] = f"{values[0]}%" if key == "class" else f"%{values[0]}%"
    sql = " AND ".join(where)
    with inst.db.session() as session:
        total = session.scalar(text(f"SELECT count(*) FROM catalog_resources WHERE {sql}"), params)
        session.execute(
            text(
                f"SELECT id, name, summary FROM catalog_resources WHERE {sql} "
                "ORDER BY updated_at DESC LIMIT 20"
            ),
            params,
        ).all()
    return int(total or 0)


def ours(inst: city.Instance, who: Principal, q: str, filters: dict[str, list[str]]) -> int:
    with inst.db.session() as session:
        found = catalog.search(session, who, q=q, filters=filters, limit=20)
        _ = [r.name for r in found.results]
        return found.total


def instance(backend: str, count: int) -> tuple[city.Instance, float | None]:
    name = f"catalog-{backend}-{count}"
    info = city.cached(name) if backend == "sqlite" else None
    if info:
        log(f"reusing the cached catalogue {name} (created at {info['rate']} resources/s)")
        return city.attach(backend, WORK / name, info["url"]), None
    inst = city.create(backend, name)
    log(f"creating {count:,} resources ({backend})")
    rate = populate(inst, count)
    city.analyze(inst)
    if backend == "sqlite":
        city.remember(inst, rate=f"{rate:.0f}")
    return inst, rate


def run(backend: str, count: int, repeats: int) -> list[Result]:
    inst, rate = instance(backend, count)
    results: list[Result] = []
    if rate is not None:
        results.append(
            Result(
                f"catalogue: create {count:,} resources",
                backend,
                rate,
                None,
                "res/s",
                "—",
                None,
                higher_is_better=True,
                note="create + workflow, 200 per transaction",
            )
        )
    who = {"anonymous": ANONYMOUS, "department": inst.officer}
    for label, principal in who.items():
        for _kind, q, filters in QUERIES:  # warm-up: jieba, caches, query plans
            ours(inst, principal, q, filters)
            naive(inst, q, filters)
        mine: list[float] = []
        base: list[float] = []
        by_kind: dict[str, list[float]] = {}
        for _ in range(repeats):
            for kind, q, filters in QUERIES:
                ms = timed(partial(ours, inst, principal, q, filters))
                mine.append(ms)
                by_kind.setdefault(kind, []).append(ms)
                base.append(timed(partial(naive, inst, q, filters)))
        slowest = max(by_kind, key=lambda k: percentile(by_kind[k], 95))
        for pct in (50, 95):
            ok = percentile(mine, 95) <= TARGET_MS if pct == 95 else None
            results.append(
                Result(
                    f"catalogue search p{pct}, {label}",
                    backend,
                    percentile(mine, pct),
                    percentile(base, pct),
                    "ms",
                    f"p95 ≤ {TARGET_MS:.0f} ms" if pct == 95 else "—",
                    ok,
                    note=f"{len(mine)} calls; slowest kind: {slowest} "
                    f"p95 {percentile(by_kind[slowest], 95):.1f} ms"
                    if pct == 95
                    else f"{len(mine)} calls",
                )
            )
    inst.db.dispose()
    return results
