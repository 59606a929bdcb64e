"""What an attacker with database access does: bypass the append-only triggers and edit."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from cityos.audit.triggers import APPEND_ONLY_TABLES


@contextmanager
def attacker(engine: Engine) -> Iterator[Connection]:
    """A connection on which UPDATE/DELETE of the audit tables work (and are committed)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # superuser
        else:
            for table in APPEND_ONLY_TABLES:
                conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
                conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))
        yield conn
