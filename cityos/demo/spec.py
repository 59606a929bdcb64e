"""Plain descriptions of the demo's information resources (turned into ResourceIn by the loader)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Item:
    field: str
    name: str
    data_type: str = "string"
    length: int | None = None
    sensitivity: str = "public"
    unit: str = ""
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class ResourceSpec:
    key: str
    name: str
    provider: str  # OrgSpec key
    class_code: str  # a default class code, or "dept" for the provider's 部门信息资源 class
    summary: str
    format: str
    share_type: str
    open_type: str
    update_cycle: str
    items: tuple[Item, ...] = ()
    share_condition: str = ""
    share_method: str = "interface"
    share_basis: str = ""
    open_condition: str = ""
    keywords: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    key_fields: tuple[str, ...] = ()
    published_on: date | None = None
    status: str = "published"  # published | confirmed | submitted | rejected | draft
    review_comment: str = ""  # the bureau's comment when rejected
    records: str | None = None  # name of the record generator (cityos.demo.records)
    related: tuple[str, ...] = field(default=())  # keys of related resources


def it(
    field: str,
    name: str,
    data_type: str = "string",
    length: int | None = None,
    *,
    sens: str = "public",
    unit: str = "",
    req: bool = False,
    desc: str = "",
) -> Item:
    return Item(field, name, data_type, length, sens, unit, req, desc)


HAIKOU = ("460105", "460106", "460107", "460108")

# frequently repeated item groups
PLACE = (
    it("district", "所属区", "string", 6, desc="GB/T 2260 区划代码"),
    it("address", "地址", "string", 200),
    it("longitude", "经度", "number", unit="°"),
    it("latitude", "纬度", "number", unit="°"),
)

PIPL_28 = "《中华人民共和国个人信息保护法》第二十八条"
CONDITION_OFFICIAL_DUTY = (
    "仅向依法履行职责需要的政务部门提供；申请时须说明用途、使用范围和期限，"
    "按最小必要原则提供，不得用于其他目的。"
)
CONDITION_VERIFY = "以核验接口方式提供（输入身份证号和姓名，返回是否一致），不提供批量数据。"
OPEN_ON_AGREEMENT = (
    "经申请并签订数据开放利用协议后开放，限科研、公益和产品开发使用，须标注数据来源。"
)
