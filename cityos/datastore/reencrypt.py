"""Changing what is encrypted in a stored table, and moving rows to a rotated data key.

``convert`` runs under the resource's write lock (``tables.write_lock``), in the caller's
transaction: fields that now need encryption get their ``__ct``/``__bi`` columns filled and the
plaintext column emptied; fields that no longer do get their plaintext back. Rows are read and
written in batches of ``BATCH_ROWS`` by ``_id`` (flat memory); the whole change commits or not
at all, so readers see the table entirely before or entirely after. On SQLite ``secure_delete``
is on while it runs, so the emptied plaintext does not linger in free pages. (PostgreSQL keeps
dead row versions until VACUUM: run ``VACUUM`` on the table after encrypting existing data.)

``reencrypt_table`` is the background pass after ``cityos crypto rotate``: one short
transaction per batch, so loads and reads go on between batches (old blobs keep decrypting).
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from sqlalchemy import Column, Connection, Index, Table, bindparam, inspect, select, update
from sqlalchemy.orm import Session

from cityos.core.db import Database
from cityos.crypto.envelope import blob_key_id
from cityos.crypto.sm import GCM_NONCE_SIZE
from cityos.datastore.crypt import (
    ColumnCipher,
    bi_name,
    ct_name,
    encrypted_fields,
    ensure_index_key,
    writer_cipher,
)
from cityos.datastore.models import DatastoreTable
from cityos.datastore.tables import (
    ID_COLUMN,
    create_key_indexes,
    drop_key_indexes,
    physical_keys,
    physical_table,
    quote,
    sql_type,
    write_lock,
)

BATCH_ROWS = 2_000


def index_name(table: str, field: str) -> str:
    """The blind-index index of a field (short: PostgreSQL allows 63 characters)."""
    return f"{table}_b{hashlib.sha1(field.encode()).hexdigest()[:10]}"


def create_index_columns(conn: Connection, table: Table, fields: set[str] | list[str]) -> None:
    for field in sorted(fields):
        Index(index_name(table.name, field), table.c[bi_name(field)]).create(conn, checkfirst=True)


def set_encrypted(session: Session, record: DatastoreTable, fields: set[str] | list[str]) -> None:
    ensure_index_key(session, record)
    meta = dict(record.encrypted or {})
    meta["fields"] = sorted(fields)
    record.encrypted = meta


def _add_missing_columns(conn: Connection, name: str, fields: set[str]) -> None:
    existing = {c["name"] for c in inspect(conn).get_columns(name)}
    for field in sorted(fields):
        for column, data_type in ((ct_name(field), "ciphertext"), (bi_name(field), "string")):
            if column not in existing:
                ddl = sql_type(data_type).compile(dialect=conn.dialect)
                conn.exec_driver_sql(
                    f"ALTER TABLE {quote(conn, name)} ADD COLUMN {quote(conn, column)} {ddl}"
                )


def _drop_indexes_on(conn: Connection, name: str, fields: set[str]) -> None:
    """Query-driven indexes (``<table>_a…``) and blind-index indexes on columns that change."""
    touched = fields | {bi_name(f) for f in fields}
    for index in inspect(conn).get_indexes(name):
        index_id = str(index.get("name") or "")
        on = set(index.get("column_names") or [])
        if index_id.startswith(f"{name}_a") and on & touched:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {quote(conn, index_id)}")
    for field in fields:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {quote(conn, index_name(name, field))}")


def _batches(conn: Connection, table: Table, column: Column[Any]) -> Any:
    """(_id, value) of the rows where ``column`` has a value, BATCH_ROWS at a time."""
    row_id = table.c[ID_COLUMN]
    last = None
    while True:
        stmt = select(row_id, column).where(column.is_not(None)).order_by(row_id).limit(BATCH_ROWS)
        if last is not None:
            stmt = stmt.where(row_id > last)
        rows = conn.execute(stmt).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _encrypt_column(
    conn: Connection, table: Table, cipher: ColumnCipher, field: str, data_type: str
) -> int:
    plain, ct, bi = table.c[field], table.c[ct_name(field)], table.c[bi_name(field)]
    stmt = (
        update(table)
        .where(table.c[ID_COLUMN] == bindparam("b_id"))
        .values({ct: bindparam("b_ct"), bi: bindparam("b_bi"), plain: None})
    )
    done = 0
    encode = cipher.encoder(field, data_type)
    for rows in _batches(conn, table, plain):
        params = []
        for row_id, value in rows:
            blob, index = encode(value, os.urandom(GCM_NONCE_SIZE))
            params.append({"b_id": row_id, "b_ct": blob, "b_bi": index})
        conn.execute(stmt, params)
        done += len(rows)
    return done


def _decrypt_column(
    conn: Connection, table: Table, cipher: ColumnCipher, field: str, data_type: str
) -> int:
    plain, ct, bi = table.c[field], table.c[ct_name(field)], table.c[bi_name(field)]
    stmt = (
        update(table)
        .where(table.c[ID_COLUMN] == bindparam("b_id"))
        .values({plain: bindparam("b_value"), ct: None, bi: None})
    )
    done = 0
    for rows in _batches(conn, table, ct):
        params = [
            {"b_id": row_id, "b_value": cipher.decode(field, data_type, blob)}
            for row_id, blob in rows
        ]
        conn.execute(stmt, params)
        done += len(rows)
    return done


def convert(
    conn: Connection, session: Session, record: DatastoreTable, want: set[str]
) -> dict[str, list[str]]:
    """Encrypt the fields in ``want`` not yet encrypted, decrypt those no longer in it.
    Returns {"encrypted": [...], "decrypted": [...]} (fields changed)."""
    name = record.table_name
    columns = dict(record.columns or {})
    want = {f for f in want if f in columns}
    have = set(encrypted_fields(record))
    add, remove = want - have, have - want
    if not add and not remove:
        return {"encrypted": [], "decrypted": []}
    cipher = writer_cipher(session, record)
    _add_missing_columns(conn, name, add)
    table = physical_table(name, columns, have | want)
    keys = list(record.key_fields or [])
    rekey = bool(set(keys) & (add | remove))
    if rekey:
        drop_key_indexes(conn, name, keys)
    _drop_indexes_on(conn, name, add | remove)
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.exec_driver_sql("PRAGMA secure_delete = ON")
    try:
        for field in sorted(add):
            _encrypt_column(conn, table, cipher, field, columns[field])
        for field in sorted(remove):
            _decrypt_column(conn, table, cipher, field, columns[field])
    finally:
        if sqlite:
            conn.exec_driver_sql("PRAGMA secure_delete = OFF")
    create_index_columns(conn, table, add)
    if rekey:
        create_key_indexes(conn, table, physical_keys(keys, want))
    set_encrypted(session, record, want)
    session.flush()
    from cityos.datastore.indexer import forget

    forget(record.resource_id)
    return {"encrypted": sorted(add), "decrypted": sorted(remove)}


def reencrypt_table(db: Database, resource_id: str) -> int:
    """Move the encrypted values of a table to its current data key, one batch per
    transaction; returns how many rows were rewritten."""
    moved = 0
    last: int | None = None
    while True:
        with write_lock(db, resource_id) as (conn, session):
            record = session.get(DatastoreTable, resource_id)
            fields = encrypted_fields(record)
            if record is None or not fields:
                return moved
            cipher = writer_cipher(session, record)
            assert cipher.write_key is not None
            current = cipher.write_key[0]
            table = physical_table(record.table_name, dict(record.columns or {}), fields)
            row_id = table.c[ID_COLUMN]
            cts = [table.c[ct_name(f)] for f in fields]
            stmt = select(row_id, *cts).order_by(row_id).limit(BATCH_ROWS)
            if last is not None:
                stmt = stmt.where(row_id > last)
            rows = conn.execute(stmt).all()
            if not rows:
                return moved
            last = rows[-1][0]
            params = []
            for row in rows:
                blobs = list(row[1:])
                stale = [b is not None and blob_key_id(bytes(b)) != current for b in blobs]
                if not any(stale):
                    continue
                values: dict[str, Any] = {"b_id": row[0]}
                for i, field in enumerate(fields):
                    blob = blobs[i]
                    if stale[i]:
                        blob = cipher.seal(field, cipher.open(field, blob))
                    values[f"b_{i}"] = blob
                params.append(values)
            if params:
                conn.execute(
                    update(table)
                    .where(row_id == bindparam("b_id"))
                    .values({ct: bindparam(f"b_{i}") for i, ct in enumerate(cts)}),
                    params,
                )
                moved += len(params)
