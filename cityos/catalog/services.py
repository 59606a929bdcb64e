from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.auth.principal import Principal
from cityos.catalog import policy
from cityos.catalog.models import Resource


def portal_stats(session: Session, principal: Principal) -> dict[str, Any]:
    visible = policy.metadata_clause(principal)
    total = session.scalar(select(func.count()).select_from(Resource).where(visible)) or 0
    return {"resources": total, "by_provider": [], "by_class": []}
