"""Sharing in the demo: one request waiting in 市公安局's inbox and one subscription in force.

The 市卫生健康委 → 市公安局 population request of the walk-through (docs/demo.md) is left for the
visitor to make; here 市水务局 asks for the residents' data behind its water-fee relief, and
市卫生健康委 subscribes to the 无条件共享 air-quality data for its health warnings.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from cityos.auth.principal import Principal
from cityos.core.db import Database
from cityos.sharing import services
from cityos.sharing.grants import today
from cityos.sharing.models import Grant, ShareRequest
from cityos.sharing.schemas import RequestIn, SubscribeIn


def ensure_sharing(
    db: Database, resources: dict[str, tuple[str, str]], principals: dict[str, Principal]
) -> int:
    """Add the demo request and subscription when the demo has none; returns how many."""
    if "residents" not in resources or "air_quality" not in resources:
        return 0
    with db.session() as session:
        if session.scalar(select(func.count()).select_from(ShareRequest)) or session.scalar(
            select(func.count()).select_from(Grant)
        ):
            return 0
        services.create_request(
            session,
            principals["officer_water"],
            RequestIn(
                resource=resources["residents"][0],
                items=["id_number", "name", "district", "address"],
                purpose="低保、特困家庭水费减免资格核验",
                legal_basis="《海口市城乡居民最低生活保障实施办法》；《海口市智慧城市促进条例》第十三条",
                scenario="水务营业厅办理水费减免时核验申请人身份与住址",
                period_start=today(),
                period_end=today() + timedelta(days=365),
                row_scope={},
            ),
        )
        services.subscribe(
            session,
            principals["officer_health"],
            SubscribeIn(
                resource=resources["air_quality"][0],
                purpose="空气污染健康风险提示与呼吸系统疾病监测",
            ),
        )
    return 2
