"""Database triggers that make the audit tables append-only on SQLite and PostgreSQL.

``audit_records``, ``audit_tree_heads`` and ``audit_signing_keys`` refuse UPDATE, DELETE and
TRUNCATE. (``audit_log_state``, the leaf counter, is updated by every append.) Someone with
the database owner's rights can still drop a trigger: that is what ``cityos audit verify``
catches.
"""

from __future__ import annotations

from typing import Any

APPEND_ONLY_TABLES = ("audit_records", "audit_tree_heads", "audit_signing_keys")


def _sqlite(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
       BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
       BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END""",
    ]


def _postgresql(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
       FOR EACH ROW EXECUTE FUNCTION audit_records_append_only()""",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
       FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only()""",
    ]


SQLITE = [s for table in APPEND_ONLY_TABLES for s in _sqlite(table)]

POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION audit_records_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit records are append-only'; END; $$ LANGUAGE plpgsql""",
    *(s for table in APPEND_ONLY_TABLES for s in _postgresql(table)),
]


def install_append_only(op: Any) -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE if dialect == "sqlite" else POSTGRESQL:
        op.execute(statement)
