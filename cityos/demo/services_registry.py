"""The demo's interface services (Art. 13 ¶2), registered by the providers' officers and confirmed
by the bureau through ``cityos.interfaces.services``: 居民身份核验 (市公安局, verify 身份证号 + 姓名)
and 企业登记状态查询 (市市场监督管理局, lookup by 统一社会信用代码). Safe to repeat."""

from __future__ import annotations

from sqlalchemy import select

from cityos.auth.principal import Principal
from cityos.core.db import Database
from cityos.demo.orgs import ORG_BY_KEY
from cityos.interfaces import services
from cityos.interfaces.models import InterfaceService
from cityos.interfaces.schemas import ServiceIn

# (resource key, provider key, declaration without the resource id)
DEMO_SERVICES: tuple[tuple[str, str, dict[str, object]], ...] = (
    (
        "residents",
        "police",
        {
            "name": "居民身份核验",
            "description": "核验身份证号与姓名是否与人口基础信息一致，只返回“一致/不一致”，"
            "不返回任何人口信息。用于社会救助、政务服务办理中的身份核验。",
            "kind": "query",
            "operation": "verify",
            "inputs": [{"name": "id_number", "detector": "id_card"}, {"name": "name"}],
        },
    ),
    (
        "enterprises",
        "market",
        {
            "name": "企业登记状态查询",
            "description": "按统一社会信用代码查询一家企业的名称、登记状态与成立日期，"
            "每次最多返回一条记录。",
            "kind": "query",
            "operation": "lookup",
            "inputs": [{"name": "uscc", "detector": "uscc"}],
            "outputs": [{"name": "name"}, {"name": "status"}, {"name": "established_on"}],
        },
    ),
)


def ensure_services(
    db: Database, resources: dict[str, tuple[str, str]], principals: dict[str, Principal]
) -> int:
    """Register and confirm the demo services that are missing; returns how many were added."""
    added = 0
    with db.session() as session:
        existing = set(
            session.execute(select(InterfaceService.resource_id, InterfaceService.name)).tuples()
        )
        for resource_key, provider_key, declaration in DEMO_SERVICES:
            if resource_key not in resources:
                continue
            resource_id = resources[resource_key][0]
            if (resource_id, declaration["name"]) in existing:
                continue
            officer = principals[ORG_BY_KEY[provider_key].officer]
            data = ServiceIn.model_validate({**declaration, "resource_id": resource_id})
            service = services.register(session, data, officer)
            services.transition(session, service.code, "confirm", principals["admin"], "同意。")
            added += 1
    return added
