"""The demo city's organisations and accounts (see docs/demo.md for the table)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from cityos.demo.people import uscc


@dataclass(frozen=True)
class OrgSpec:
    key: str  # stable handle inside the demo (also the data officer's username suffix)
    name: str
    short_name: str
    kind: str = "government"
    district: str = "460100"
    description: str = ""
    is_bureau: bool = False
    officer: str = ""  # username of its data officer
    officer_name: str = ""  # display name

    @property
    def uscc(self) -> str:
        """Registration authority and type (11 机关, 91 企业, 51 社会团体), region, then an
        organisation code in the style of its kind: long-standing departments and enterprises
        have all-digit codes, a recently registered social organisation an MJ code."""
        rng = random.Random(f"cityos-demo:org:{self.key}")
        head = {"government": "11", "enterprise": "91", "social": "51"}[self.kind]
        digits = "".join(rng.choice("0123456789") for _ in range(8))
        prefix = {"government": "00" + digits[:6], "enterprise": digits, "social": "MJ" + digits[:6]}
        return uscc(rng, head, self.district, prefix[self.kind])


ORGS: tuple[OrgSpec, ...] = (
    OrgSpec("bigdata", "海口市大数据管理局", "市大数据管理局", is_bureau=True,
            description="全市政务信息资源目录的确认、共享开放与城市运行管理中心（城市大脑）的运行。",
            officer="officer_dsj", officer_name="大数据局数据专员"),
    OrgSpec("police", "海口市公安局", "市公安局", description="人口、治安、交通管理。",
            officer="officer_police", officer_name="公安局数据专员"),
    OrgSpec("env", "海口市生态环境局", "市生态环境局", description="大气、水、近岸海域环境监测与执法。",
            officer="officer_sthj", officer_name="生态环境局数据专员"),
    OrgSpec("water", "海口市水务局", "市水务局", description="水文水资源、防汛抗旱、河湖长制。",
            officer="officer_water", officer_name="水务局数据专员"),
    OrgSpec("transport", "海口市交通运输局", "市交通运输局", description="公共交通、停车、道路运输、港航。",
            officer="officer_jiaotong", officer_name="交通运输局数据专员"),
    OrgSpec("health", "海口市卫生健康委员会", "市卫生健康委员会", description="医疗机构、公共卫生、健康档案。",
            officer="officer_health", officer_name="卫健委数据专员"),
    OrgSpec("education", "海口市教育局", "市教育局", description="学校、学籍、招生考试。",
            officer="officer_jiaoyu", officer_name="教育局数据专员"),
    OrgSpec("civil", "海口市民政局", "市民政局", description="社会救助、养老服务、社会组织、地名。",
            officer="officer_minzheng", officer_name="民政局数据专员"),
    OrgSpec("market", "海口市市场监督管理局", "市市场监督管理局", description="市场主体登记、食品药品安全、信用监管。",
            officer="officer_shichang", officer_name="市场监管局数据专员"),
    OrgSpec("emergency", "海口市应急管理局", "市应急管理局", description="应急资源、避难场所、危险化学品、突发事件。",
            officer="officer_yingji", officer_name="应急管理局数据专员"),
    OrgSpec("weather", "海口市气象局", "市气象局", description="气象观测、预报与预警信号。",
            officer="officer_qixiang", officer_name="气象局数据专员"),
    OrgSpec("land", "海口市自然资源和规划局", "市自然资源和规划局", description="基础地理、国土空间规划、不动产登记。",
            officer="officer_ziran", officer_name="自然资源和规划局数据专员"),
    OrgSpec("housing", "海口市住房和城乡建设局", "市住房和城乡建设局", description="住房保障、建设工程、物业管理。",
            officer="officer_zhujian", officer_name="住建局数据专员"),
    OrgSpec("hrss", "海口市人力资源和社会保障局", "市人力资源和社会保障局", description="就业服务、社会保险、职业技能。",
            officer="officer_renshe", officer_name="人社局数据专员"),
    OrgSpec("office", "海口市人民政府办公厅", "市政府办公厅", description="政务公开、12345 热线、督查督办。",
            officer="officer_bgt", officer_name="政府办公厅数据专员"),
    OrgSpec("cac", "中共海口市委网络安全和信息化委员会办公室", "市委网信办",
            description="网络安全、数据安全与个人信息保护的统筹协调。",
            officer="officer_wangxin", officer_name="网信办数据专员"),
    OrgSpec("xiuying", "海口市秀英区人民政府", "秀英区人民政府", district="460105",
            description="秀英区政务数据的归集与共享。", officer="officer_xiuying", officer_name="秀英区数据专员"),
    OrgSpec("longhua", "海口市龙华区人民政府", "龙华区人民政府", district="460106",
            description="龙华区政务数据的归集与共享。", officer="officer_longhua", officer_name="龙华区数据专员"),
    OrgSpec("qiongshan", "海口市琼山区人民政府", "琼山区人民政府", district="460107",
            description="琼山区政务数据的归集与共享。", officer="officer_qiongshan", officer_name="琼山区数据专员"),
    OrgSpec("meilan", "海口市美兰区人民政府", "美兰区人民政府", district="460108",
            description="美兰区政务数据的归集与共享。", officer="officer_meilan", officer_name="美兰区数据专员"),
    OrgSpec("waterworks", "海口市水务集团有限公司", "海口水务集团", kind="enterprise",
            description="城市供水、污水处理（公共服务企业）。",
            officer="officer_shuiwujt", officer_name="水务集团数据专员"),
    OrgSpec("grid", "海南电网有限责任公司海口供电局", "海口供电局", kind="enterprise",
            description="电力供应、停电计划与用电统计（公共服务企业）。",
            officer="officer_gongdian", officer_name="供电局数据专员"),
    OrgSpec("bus", "海口市公共交通集团有限公司", "海口公交集团", kind="enterprise",
            description="公交线路运营与车辆实时位置（公共服务企业）。",
            officer="officer_gongjiao", officer_name="公交集团数据专员"),
    OrgSpec("charity", "海口市慈善总会", "海口市慈善总会", kind="social",
            description="慈善项目与志愿服务（社会组织，依条例第十四条汇聚数据）。",
            officer="officer_cishan", officer_name="慈善总会数据专员"),
)
ORG_BY_KEY = {o.key: o for o in ORGS}


@dataclass(frozen=True)
class AccountSpec:
    username: str
    display_name: str
    role: str
    org: str | None  # OrgSpec key; None for platform-wide roles


# exactly the accounts of cityos.auth.views.DEMO_ACCOUNTS, then one officer per organisation
ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("admin", "平台管理员", "admin", "bigdata"),
    AccountSpec("officer_water", "水务局数据专员", "data_officer", "water"),
    AccountSpec("officer_health", "卫健委数据专员", "data_officer", "health"),
    AccountSpec("officer_police", "公安局数据专员", "data_officer", "police"),
    AccountSpec("reviewer", "网信审查员", "reviewer", "cac"),
    AccountSpec("operator", "城市运行值班员", "operator", "bigdata"),
    AccountSpec("leader", "市领导（演示）", "leader", "office"),
    AccountSpec("citizen", "市民（演示）", "public", None),
    AccountSpec("developer", "开发者（演示）", "public", None),
)


def all_accounts() -> list[AccountSpec]:
    named = {a.username for a in ACCOUNTS}
    officers = [
        AccountSpec(o.officer, o.officer_name, "data_officer", o.key)
        for o in ORGS
        if o.officer and o.officer not in named
    ]
    return [*ACCOUNTS, *officers]
