"""The one query of a code check, on a raw DB-API connection from the engine's pool.

``SELECT`` of the code row LEFT JOIN its grant by ``exchange_codes.key_id`` (unique index), run
with the driver's cursor: per call this avoids the statement machinery of SQLAlchemy Core,
which is a measurable part of a call on this hot path (docs/benchmarks.md). Values come back in
the driver's types and are normalised here (SQLite gives text for dates, times and JSON).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy.engine import Engine

COLUMNS = (
    "c.secret_hmac, c.status, c.expires_at, c.overlap_until, c.rate_limit_per_minute, "
    "c.grant_id, g.status, g.valid_from, g.valid_until, g.items, g.row_scope, g.allow_export, "
    "g.masking, g.purpose, g.version, g.resource_id, g.service_id, g.consumer_org_id, "
    "g.provider_org_id"
)
SQL = (
    f"SELECT {COLUMNS} FROM exchange_codes c "
    "LEFT OUTER JOIN sharing_grants g ON g.id = c.grant_id WHERE c.key_id = {mark}"
)


class CodeRow(NamedTuple):
    secret_hmac: bytes
    status: str
    expires_at: datetime
    overlap_until: datetime | None
    rate_limit_per_minute: int
    grant_id: str | None
    grant_status: str | None
    valid_from: date | None
    valid_until: date | None
    items: list[str]
    row_scope: dict[str, Any]
    allow_export: bool
    masking: dict[str, Any]
    purpose: str
    version: int
    resource_id: str | None
    service_id: str | None
    consumer_org_id: str | None
    provider_org_id: str | None


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite: naive UTC text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _json(value: Any, empty: Any) -> Any:
    if value is None:
        return empty
    return json.loads(value) if isinstance(value, str | bytes) else value


class Lookup:
    """Keeps one pooled DB-API connection for the code checks of this process (in autocommit:
    every lookup sees the latest committed state, and no read transaction stays open)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self.sql = SQL.format(mark="?" if self.sqlite else "%s")
        self._conn: Any = None
        self._lock = threading.Lock()

    def _connection(self) -> Any:
        if self._conn is None:
            conn = self.engine.raw_connection()
            driver = conn.driver_connection
            if self.sqlite:
                driver.isolation_level = None  # type: ignore[union-attr]
            else:
                driver.autocommit = True  # type: ignore[union-attr]
            self._conn = conn
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                if self.sqlite:
                    conn.driver_connection.isolation_level = ""
                else:
                    conn.driver_connection.autocommit = False
                conn.close()

    def _query(self, key_id: str) -> Any:
        with self._lock:
            try:
                cursor = self._connection().cursor()
                cursor.execute(self.sql, (key_id,))
                row = cursor.fetchone()
                cursor.close()
                return row
            except Exception:
                if self._conn is not None:  # a broken connection: the next call makes another
                    self._conn.invalidate()
                    self._conn = None
                raise

    def fetch(self, key_id: str) -> CodeRow | None:
        row = self._query(key_id)
        if row is None:
            return None
        expires = _moment(row[2])
        assert expires is not None
        return CodeRow(
            secret_hmac=bytes(row[0]),
            status=row[1],
            expires_at=expires,
            overlap_until=_moment(row[3]),
            rate_limit_per_minute=int(row[4]),
            grant_id=row[5],
            grant_status=row[6],
            valid_from=_day(row[7]),
            valid_until=_day(row[8]),
            items=list(_json(row[9], [])),
            row_scope=dict(_json(row[10], {})),
            allow_export=bool(row[11]),
            masking=dict(_json(row[12], {})),
            purpose=row[13] or "",
            version=int(row[14] or 0),
            resource_id=row[15],
            service_id=row[16],
            consumer_org_id=row[17],
            provider_org_id=row[18],
        )
