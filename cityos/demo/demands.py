"""Demands (数据需求) in the demo: eight Haikou requests across every status.

Open (one still to be assigned by the bureau), accepted with a planned date, already available
with a link to an open dataset, not accepted with a reason, and one fulfilled (the school-zone
data), whose requester 市民（演示） has the notifications. Votes by citizen and developer,
comments with an official reply. Loaded through the demand services; added only when the demo
has no demand yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.auth.principal import Principal
from cityos.core.db import Database, utcnow
from cityos.core.i18n import DISPLAY_TZ
from cityos.demand import answers, services
from cityos.demand.models import Demand
from cityos.demand.schemas import AnswerIn, DemandIn
from cityos.demo.orgs import ORG_BY_KEY
from cityos.directory import services as directory


@dataclass(frozen=True)
class DemoDemand:
    title: str
    description: str
    requester: str
    org: str | None  # OrgSpec key; None: left to the bureau
    days_ago: int
    fields_wanted: str = ""
    data_format: str = ""
    update_frequency: str = ""
    scenario: str = ""
    voters: tuple[str, ...] = ()
    comments: tuple[tuple[str, str], ...] = ()  # (username, text)
    answer: str = ""  # accepted | available | refused | ""
    officer: str = ""
    answer_days: int = 0  # calendar days after submission
    planned_in_days: int = 0
    resource: str = ""  # demo resource key
    text: str = ""


DEMANDS = (
    DemoDemand(
        "公交实时到站数据",
        "希望开放全市公交车辆的实时位置和预计到站时间，方便市民在站台或手机上查看下一班车还有多久到站。",
        "citizen",
        "bus",
        40,
        fields_wanted="线路、站点、车辆编号、预计到站时间、更新时间",
        data_format="API",
        update_frequency="实时（30 秒）",
        scenario="候车提醒小程序、适老化电子站牌",
        voters=("developer",),
        comments=(
            ("developer", "希望提供 GTFS-Realtime 格式，便于对接地图应用。"),
            ("officer_gongjiao", "已纳入公交集团数据开放计划，先开放主城区线路。"),
        ),
        answer="accepted",
        officer="officer_gongjiao",
        answer_days=6,
        planned_in_days=60,
        text="拟于二季度起分批开放主城区线路的实时到站数据接口。",
    ),
    DemoDemand(
        "停车场实时泊位",
        "希望开放公共停车场的实时空余泊位数量，出行前就能知道哪里还有车位，减少绕行找车位。",
        "developer",
        "transport",
        35,
        fields_wanted="停车场名称、位置、总泊位、空余泊位、收费标准",
        data_format="API / CSV",
        update_frequency="每 5 分钟",
        scenario="停车导航应用",
        voters=("citizen",),
        answer="available",
        officer="officer_jiaotong",
        answer_days=3,
        resource="parking_live",
        text="该数据已作为开放数据发布，可在开放数据门户下载或调用接口。",
    ),
    DemoDemand(
        "学校学区划分",
        "希望开放义务教育阶段各学校的划片招生范围，方便家长在购房、租房和入学报名前查询。",
        "citizen",
        "education",
        30,
        fields_wanted="学校名称、学段、划片范围（街道/小区）、年度",
        data_format="CSV",
        update_frequency="每年",
        scenario="入学报名前查询对口学校",
        voters=("developer",),
        answer="accepted",
        officer="officer_jiaoyu",
        answer_days=8,
        planned_in_days=0,
        resource="school_zones",
        text="已整理各区划片范围，随 2025 年招生政策一并开放。",
    ),
    DemoDemand(
        "公共厕所位置",
        "希望开放全市公共厕所的位置、开放时间和无障碍设施信息，方便游客和老人出行。",
        "citizen",
        None,
        12,
        fields_wanted="名称、地址、经纬度、开放时间、是否有无障碍设施",
        data_format="CSV / GeoJSON",
        scenario="旅游地图、适老出行",
        voters=("developer",),
        comments=(("developer", "如能附带母婴室信息就更好了。"),),
    ),
    DemoDemand(
        "充电桩分布",
        "希望开放全市公共充电桩的位置、功率和实时占用情况，方便新能源车主规划充电。",
        "developer",
        "grid",
        25,
        fields_wanted="站点名称、位置、快充/慢充数量、功率、运营商",
        data_format="API",
        voters=("citizen",),
        answer="refused",
        officer="officer_gongdian",
        answer_days=9,
        text="公共充电桩多由社会运营商建设运营，本单位仅掌握自建站点，数据不完整；"
        "建议向市发展改革部门提出，由其统一汇集后开放。",
    ),
    DemoDemand(
        "海口湾水质",
        "希望开放海口湾近岸海域各监测点的水质数据，便于游泳、赶海前了解水质情况。",
        "citizen",
        "env",
        20,
        fields_wanted="监测点、监测时间、水质类别、主要指标",
        update_frequency="每月",
        answer="available",
        officer="officer_sthj",
        answer_days=4,
        resource="coastal_water",
        text="近岸海域水质监测数据已开放，含海口湾各监测点。",
    ),
    DemoDemand(
        "菜市场价格",
        "希望开放主要农贸市场蔬菜、肉类、水产的每日零售价格，方便市民比价和了解物价变化。",
        "citizen",
        "market",
        6,
        fields_wanted="市场名称、品种、规格、价格、日期",
        update_frequency="每日",
        voters=("developer",),
        comments=(("developer", "可以参考发改部门的价格监测口径。"),),
    ),
    DemoDemand(
        "共享单车停放点",
        "希望开放共享单车电子围栏（规范停放点）的位置和容量，方便骑行者就近还车、减少乱停放。",
        "developer",
        "transport",
        15,
        fields_wanted="停放点编号、位置、容量、所属区",
        data_format="GeoJSON",
        voters=("citizen",),
        answer="accepted",
        officer="officer_jiaotong",
        answer_days=5,
        planned_in_days=45,
        text="将会同各共享单车企业汇总电子围栏数据后开放。",
    ),
)


def _today() -> date:
    return datetime.now(DISPLAY_TZ).date()


def ensure_demands(
    db: Database, resources: dict[str, tuple[str, str]], principals: dict[str, Principal]
) -> int:
    """Add the demo demands when there is none; returns how many were added."""
    with db.session() as session:
        if session.scalar(select(func.count()).select_from(Demand)):
            return 0
    added = 0
    for spec in DEMANDS:
        if spec.requester not in principals or (spec.officer and spec.officer not in principals):
            continue
        with db.session() as session:
            _add(session, spec, resources, principals)
        added += 1
    return added


def _org_id(session: Session, key: str | None) -> str | None:
    if key is None or key not in ORG_BY_KEY:
        return None
    uscc = ORG_BY_KEY[key].uscc
    return next(
        (o.id for o in directory.list_organisations(session) if o.uscc == uscc),
        None,
    )


def _add(
    session: Session,
    spec: DemoDemand,
    resources: dict[str, tuple[str, str]],
    principals: dict[str, Principal],
) -> None:
    data = DemandIn(
        title=spec.title,
        description=spec.description,
        fields_wanted=spec.fields_wanted,
        data_format=spec.data_format,
        update_frequency=spec.update_frequency,
        scenario=spec.scenario,
        org_id=_org_id(session, spec.org),
    )
    demand = services.create(session, principals[spec.requester], data)
    created = utcnow() - timedelta(days=spec.days_ago, hours=3)
    demand.created_at = created
    for voter in spec.voters:
        if voter in principals:
            services.vote(session, principals[voter], demand.id)
    for username, text in spec.comments:
        if username in principals:
            row = services.comment(session, principals[username], demand.id, text)
            row.created_at = created + timedelta(days=1)
    if spec.answer:
        resource = resources.get(spec.resource, ("", ""))[0] if spec.resource else ""
        body = AnswerIn(
            kind=spec.answer,
            planned_on=_today() + timedelta(days=spec.planned_in_days)
            if spec.answer == "accepted"
            else None,
            resource=resource,
            text=spec.text,
        )
        answers.answer(session, principals[spec.officer], demand.id, body)
        demand.answered_at = created + timedelta(days=spec.answer_days)
        if demand.fulfilled_at is not None:
            demand.fulfilled_at = demand.answered_at + timedelta(hours=2)
