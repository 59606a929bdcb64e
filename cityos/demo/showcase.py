"""The demo's showcase (应用展示, Art. 16): four entries of the demo developer approved by the
bureau and one waiting for review, through ``cityos.showcase.services``. Safe to repeat: an
entry whose title the developer already submitted is skipped."""

from __future__ import annotations

from dataclasses import dataclass

from cityos.auth.principal import Principal
from cityos.core.db import Database
from cityos.showcase import services
from cityos.showcase.schemas import ShowcaseIn

DEVELOPER = "developer"
BUREAU = "admin"


@dataclass(frozen=True)
class DemoEntry:
    title: str
    kind: str
    summary: str
    description: str
    url: str
    author: str
    datasets: tuple[str, ...]  # demo resource keys
    approved: bool = True


ENTRIES: tuple[DemoEntry, ...] = (
    DemoEntry(
        "椰城空气 — 空气质量小程序",
        "app",
        "随时查看海口各监测站的实时 AQI、PM2.5 和当天的空气质量日报，空气变差时提醒。",
        "按站点和行政区展示逐小时空气质量，附近站点优先；每天推送空气质量日报。\n"
        "数据每小时从开放数据接口更新。（演示条目）",
        "https://example.org/yecheng-air",
        "椰城开发者社区",
        ("air_quality", "air_daily"),
    ),
    DemoEntry(
        "南渡江水情看板",
        "visualisation",
        "南渡江各水位站的水位与警戒水位对比，叠加逐日降雨量，汛期一眼看清涨落。",
        "以折线图展示龙塘、新坡、铁桥、河口等站点近 30 天水位和流量，"
        "与逐日降雨量对照。（演示条目）",
        "https://example.org/nandu-river",
        "海南大学数据可视化兴趣小组",
        ("water_levels", "rainfall"),
    ),
    DemoEntry(
        "海口避难场所地图",
        "app",
        "在地图上找到离你最近的应急避难场所，查看可容纳人数和设施。",
        "支持按行政区筛选和步行路线指引，台风季前后特别有用。（演示条目）",
        "https://example.org/haikou-shelters",
        "开发者（演示）",
        ("shelters",),
    ),
    DemoEntry(
        "公交站点无障碍分析",
        "analysis",
        "分析全市公交站点的分布与覆盖，找出步行 500 米内没有公交站的居住片区。",
        "以公交站点位置计算覆盖范围，按行政区汇总未覆盖面积，"
        "为无障碍出行和线网优化提供参考。（演示条目）",
        "https://example.org/bus-stop-access",
        "城市出行研究小组",
        ("bus_stops",),
    ),
    DemoEntry(
        "海口停车难易指数",
        "research",
        "基于公共停车场信息，估算各区停车供给与需求，形成停车难易指数。",
        "研究草稿，等待大数据管理局审核。（演示条目）",
        "https://example.org/parking-index",
        "开发者（演示）",
        ("parking",),
        approved=False,
    ),
)


def ensure_showcase(
    db: Database, resources: dict[str, tuple[str, str]], principals: dict[str, Principal]
) -> int:
    """Submit (and approve) the demo entries that are missing; returns how many were added."""
    developer = principals.get(DEVELOPER)
    bureau = principals.get(BUREAU)
    if developer is None or developer.user_id is None or bureau is None:
        return 0
    added = 0
    with db.session() as session:
        existing = {a.title for a in services.mine(session, developer.user_id)}
        open_ids = {r.id for r in services.dataset_choices(session)}
        for entry in ENTRIES:
            ids = [resources[k][0] for k in entry.datasets if k in resources]
            ids = [i for i in ids if i in open_ids]
            if entry.title in existing or not ids:
                continue
            data = ShowcaseIn(
                title=entry.title,
                kind=entry.kind,
                summary=entry.summary,
                description=entry.description,
                url=entry.url,
                author=entry.author,
                datasets=ids,
            )
            app = services.submit(session, data, developer)
            if entry.approved:
                services.review(session, app.id, "approve", bureau)
            added += 1
    return added
