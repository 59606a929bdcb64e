"""How a grant is used: calls, records delivered, last use, purposes — from the audit log.

The exchange writes one audit record per call through an authorization code (actions
``exchange.records|export|service``, target ``grant``; see briefs/contract.md). Calls and the
last use are counted in SQL; the records delivered are summed over the newest calls' details,
parsed in Python (``rows_complete`` says whether that covered every call).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cityos.audit.services import activity_by_target

RECENT_CALLS = 500


@dataclass
class Usage:
    calls: int = 0
    failed_calls: int = 0
    rows: int = 0
    rows_complete: bool = True
    exports: int = 0
    last_used_at: datetime | None = None
    purposes: list[str] = field(default_factory=list)


def _rows(detail: dict[str, Any]) -> int:
    value = detail.get("rows", 0)
    return value if isinstance(value, int) and value > 0 else 0


def usage_for(
    session: Session, grant_ids: list[str], *, recent: int = RECENT_CALLS
) -> dict[str, Usage]:
    """Usage of each grant (an empty Usage for a grant never used)."""
    activity = activity_by_target(
        session,
        action_prefix="exchange.",
        target_type="grant",
        target_ids=grant_ids,
        recent=recent,
    )
    out: dict[str, Usage] = {}
    for grant_id in grant_ids:
        count, last, details = activity.get(grant_id, (0, None, []))
        usage = Usage(calls=count, last_used_at=last, rows_complete=len(details) >= count)
        purposes: list[str] = []
        for detail in details:
            ok = detail.get("result", "ok") == "ok"
            if not ok:
                usage.failed_calls += 1
                continue
            usage.rows += _rows(detail)
            if detail.get("_action") == "exchange.export":
                usage.exports += 1
            purpose = detail.get("purpose")
            if isinstance(purpose, str) and purpose and purpose not in purposes:
                purposes.append(purpose)
        usage.purposes = purposes[:5]
        out[grant_id] = usage
    return out
