"""The canonical bytes of an audit record: what its leaf hash commits to.

leaf input = UTF-8 of the canonical JSON (sorted keys, no spaces, ``ensure_ascii=False``) of::

    {"action", "actor_id", "actor_name", "at", "detail", "id", "ip", "leaf_index", "org_id",
     "target_id", "target_type"}

with ``at`` as ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` (UTC, microseconds) and ``detail`` the
record's canonical detail JSON. ``leaf_index`` is in it so that a row moved to another position
no longer matches its hash. ``leaf_text`` builds that text with C-level string escaping only, as
``json.dumps(..., sort_keys=True, ensure_ascii=False, separators=(",", ":"))`` would (a test
checks both agree), because ``cityos audit verify`` runs it for every row.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

_enc = json.encoder.encode_basestring  # C-accelerated; escapes exactly as json.dumps does

_TEMPLATE = (
    '{"action":%s,"actor_id":%s,"actor_name":%s,"at":%s,"detail":%s,"id":%d,"ip":%s,'
    '"leaf_index":%d,"org_id":%s,"target_id":%s,"target_type":%s}'
)


def at_iso(at: datetime) -> str:
    """The canonical timestamp: UTC, microseconds, ``+00:00``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def leaf_text(
    id: int,
    at: str,
    actor_id: str | None,
    actor_name: str | None,
    org_id: str | None,
    action: str,
    target_type: str,
    target_id: str | None,
    detail: str,
    ip: str | None,
    leaf_index: int,
) -> str:
    """Canonical JSON text of a record; ``at`` already canonical, ``detail`` its canonical JSON."""
    return _TEMPLATE % (
        _enc(action),
        "null" if actor_id is None else _enc(actor_id),
        "null" if actor_name is None else _enc(actor_name),
        _enc(at),
        detail,
        id,
        "null" if ip is None else _enc(ip),
        leaf_index,
        "null" if org_id is None else _enc(org_id),
        "null" if target_id is None else _enc(target_id),
        _enc(target_type),
    )
