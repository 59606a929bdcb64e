"""The demo's grading (分级) state: the population resource confirmed, the rest pending.

After the records are loaded every resource with data carries the scan's proposal. The security
reviewer confirms 海口市人口基础信息 (市公安局): 身份证号 at 重要 (sensitive personal
information), the other items as proposed, the resource at 重要 — so its 身份证号 is stored
encrypted at rest. The other resources stay pending on /console/classification.
"""

from __future__ import annotations

import logging
from typing import Any

from cityos.auth.principal import Principal
from cityos.catalog import services as catalog
from cityos.core.db import Database
from cityos.protection import review

log = logging.getLogger(__name__)

CONFIRMED = "residents"
OVERRIDES: dict[str, dict[str, Any]] = {
    "id_number": {"grade": "重要", "pi_type": "id_card", "sensitivity": "sensitive_personal"},
}


def ensure_grades(
    db: Database, resources: dict[str, tuple[str, str]], principals: dict[str, Principal]
) -> None:
    """Confirm the population resource's grades (once); leave the others' proposals pending."""
    found = resources.get(CONFIRMED)
    if found is None:
        return
    resource_id = found[0]
    with db.session() as session:
        resource = catalog.get_resource_internal(session, resource_id)
        if resource is None or resource.grade_status == "confirmed":
            return
        items = {
            i.field: {"grade": i.proposed_grade or i.grade, "pi_type": i.pi_type}
            for i in catalog.get_items(session, resource_id)
        }
    for field, wanted in OVERRIDES.items():
        items.setdefault(field, {}).update(wanted)
    decision = review.Decision(items, "重要", "演示：人口基础信息按重要数据管理，身份证号加密存储")
    result = review.confirm(db, resource_id, decision, principals["reviewer"])
    log.info("demo grades confirmed for %s: %s", result["code"], result["encryption"])
