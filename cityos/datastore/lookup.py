"""Reading given records of a resource by their ``_id`` (for incident subject lists).

Like ``services.query`` (which it calls, so stored values come back exactly as the query API
returns them), no authorization here: the caller decides who may see the rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cityos.core.db import Database
from cityos.datastore import services
from cityos.datastore.tables import ID_COLUMN

BATCH = 500


def rows_by_ids(
    db: Database, resource_id: str, ids: Iterable[int], fields: list[str]
) -> list[dict[str, Any]]:
    """The records whose ``_id`` is in ``ids`` (those that still exist), with ``_id`` and
    ``fields`` only, in ``_id`` order. Unknown fields raise 400 ``unknown_field``."""
    wanted = sorted({int(i) for i in ids})
    names = [ID_COLUMN, *(f for f in dict.fromkeys(fields) if f != ID_COLUMN)]
    out: list[dict[str, Any]] = []
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start : start + BATCH]
        result = services.query(
            db,
            resource_id,
            filters={ID_COLUMN: chunk},
            sort=ID_COLUMN,
            fields=names,
            limit=len(chunk),
            include_total=False,
        )
        out.extend(result.records)
    return out
