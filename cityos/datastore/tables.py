"""The physical data tables: ``ds_<resource id>``, typed by the resource's 信息项.

Created and altered at run time (they are data, not application schema). New items add columns
on the next load; nothing is ever dropped. The catalogue is read only through
``cityos.catalog.services`` (``get_resource_internal``, ``get_items``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    Double,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from cityos.core.db import Database, UTCDateTime, utcnow
from cityos.core.errors import ProblemError, conflict, not_found
from cityos.datastore.crypt import bi_name, ct_name, encrypted_fields, needs_encryption
from cityos.datastore.models import DatastoreTable

RESOURCE_ID_RE = re.compile(r"^[A-Za-z0-9_]{1,40}$")
ID_COLUMN = "_id"
# a changed item type that the stored data can follow without conversion
COMPATIBLE = {("string", "text"), ("text", "string"), ("integer", "number")}


def sql_type(data_type: str) -> TypeEngine[Any]:
    types: dict[str, TypeEngine[Any]] = {
        "integer": BigInteger(),
        "number": Double(),
        "boolean": Boolean(create_constraint=False),
        "date": Date(),
        "datetime": UTCDateTime(),
        "ciphertext": LargeBinary(),  # an encrypted field's envelope blobs (crypt.py)
    }
    return types.get(data_type, Text())


@dataclass(frozen=True)
class FieldSpec:
    field: str
    name: str
    data_type: str
    length: int | None
    required: bool
    encrypt: bool = False  # stored encrypted at rest (the item's grade or sensitivity)


@dataclass(frozen=True)
class ResourceSpec:
    """What the datastore needs to know of a catalogue resource (read once per request)."""

    id: str
    code: str
    name: str
    provider_id: str
    key_fields: tuple[str, ...]
    update_cycle: str
    fields: tuple[FieldSpec, ...]

    @property
    def table_name(self) -> str:
        return table_name(self.id)

    def field(self, name: str) -> FieldSpec | None:
        for f in self.fields:
            if f.field == name:
                return f
        return None

    @property
    def encrypt(self) -> set[str]:
        """The fields to store encrypted."""
        return {f.field for f in self.fields if f.encrypt}

    def encrypt_given(self, encrypted: list[str] | set[str]) -> set[str]:
        """The fields to store encrypted when ``encrypted`` are now: the items' wish, and the
        columns of items since removed stay encrypted (their data outlives them)."""
        return self.encrypt | {f for f in encrypted if self.field(f) is None}


def table_name(resource_id: str) -> str:
    if not RESOURCE_ID_RE.match(resource_id):
        raise not_found("resource", resource_id)
    return f"ds_{resource_id}"


def load_spec(session: Session, resource_id: str) -> tuple[Any, ResourceSpec]:
    """The catalogue resource (for policy checks) and its spec; 404 when there is none."""
    from cityos.catalog import services as catalog

    resource = catalog.get_resource_internal(session, resource_id)
    if resource is None:
        raise not_found("resource", resource_id)
    return resource, spec_of(session, resource)


def spec_of(session: Session, resource: Any, items: list[Any] | None = None) -> ResourceSpec:
    """``items``: the resource's items when already fetched (in bulk), else read here."""
    from cityos.catalog import services as catalog

    if items is None:
        items = catalog.get_items(session, resource.id)
    fields = tuple(
        FieldSpec(
            i.field,
            i.name or i.field,
            i.data_type,
            i.length,
            bool(i.required),
            needs_encryption(i.grade, i.sensitivity),
        )
        for i in items
        if i.field != ID_COLUMN
    )
    known = {f.field for f in fields}
    return ResourceSpec(
        id=resource.id,
        code=resource.code,
        name=resource.name,
        provider_id=resource.provider_id,
        key_fields=tuple(k for k in (resource.key_fields or []) if k in known),
        update_cycle=resource.update_cycle,
        fields=fields,
    )


def physical_table(
    name: str, columns: dict[str, str], encrypted: list[str] | set[str] | tuple[str, ...] = ()
) -> Table:
    """A Core ``Table`` for the stored columns (its own MetaData: never part of the app schema);
    an encrypted field also has its ciphertext and blind-index columns."""
    extra: list[Column[Any]] = []
    for field in sorted(encrypted):
        extra += [Column(ct_name(field), LargeBinary()), Column(bi_name(field), Text())]
    return Table(
        name,
        MetaData(),
        Column(
            ID_COLUMN,
            BigInteger().with_variant(Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        *(Column(field, sql_type(data_type)) for field, data_type in columns.items()),
        *extra,
    )


def quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


@contextmanager
def write_lock(db: Database, resource_id: str) -> Iterator[tuple[Connection, Session]]:
    """A transaction that serialises writers of one resource's data (and its DDL).

    SQLite: ``BEGIN IMMEDIATE`` (one writer at a time). PostgreSQL: a transaction-scoped
    advisory lock on the table name; readers are never blocked (MVCC).
    """
    with db.engine.connect() as conn, conn.begin():
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql(
                "SELECT pg_advisory_xact_lock(hashtext(%(name)s))",
                {"name": table_name(resource_id)},
            )
        # the session joins the connection's transaction: its commit() flushes and runs the
        # before-commit hooks (the audit log) but leaves the COMMIT to the block above
        session = Session(bind=conn, expire_on_commit=False)
        try:
            yield conn, session
            session.commit()
        finally:
            session.close()


def _table_exists(conn: Connection, name: str) -> bool:
    if conn.dialect.name == "sqlite":
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        return conn.exec_driver_sql(sql, (name,)).first() is not None
    sql = "SELECT 1 FROM pg_class WHERE relname = %(n)s AND relkind = 'r' AND pg_table_is_visible(oid)"
    return conn.exec_driver_sql(sql, {"n": name}).first() is not None


def physical_keys(
    keys: tuple[str, ...] | list[str], encrypted: list[str] | set[str]
) -> tuple[str, ...]:
    """The columns a key's unique index is on: an encrypted field's blind index."""
    return tuple(bi_name(k) if k in encrypted else k for k in keys)


def create_key_indexes(conn: Connection, table: Table, keys: tuple[str, ...]) -> None:
    """A unique index on the key, and an index on every key field (the first is covered)."""
    if not keys:
        return
    name = table.name
    unique = Index(f"{name}_key", *(table.c[k] for k in keys), unique=True)
    try:
        with conn.begin_nested():
            unique.create(conn)
    except IntegrityError:
        raise conflict(
            "duplicate_keys",
            "The stored data has duplicate values of the key fields ({keys}); "
            "replace the data before declaring this key.",
            keys=", ".join(keys),
        ) from None
    for n, key in enumerate(keys[1:], start=1):
        Index(f"{name}_k{n}", table.c[key]).create(conn)


def drop_key_indexes(conn: Connection, name: str, keys: list[str]) -> None:
    if not keys:
        return
    names = [f"{name}_key"] + [f"{name}_k{n}" for n in range(1, len(keys))]
    for index in names:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {quote(conn, index)}")


def sync_table(conn: Connection, session: Session, spec: ResourceSpec) -> DatastoreTable:
    """Create the table, add columns for new items and keep the key index in step.

    Runs inside :func:`write_lock`. Returns the (flushed) bookkeeping record.
    """
    name = spec.table_name
    record = session.get(DatastoreTable, spec.id)
    if record is None:
        record = DatastoreTable(
            resource_id=spec.id, table_name=name, columns={}, key_fields=[], row_count=0
        )
        session.add(record)
    columns: dict[str, str] = dict(record.columns or {})
    if not _table_exists(conn, name):
        from cityos.datastore.reencrypt import create_index_columns, set_encrypted

        columns = {f.field: f.data_type for f in spec.fields}
        encrypt = spec.encrypt
        table = physical_table(name, columns, encrypt)
        table.create(conn)
        create_key_indexes(conn, table, physical_keys(spec.key_fields, encrypt))
        create_index_columns(conn, table, encrypt)
        record.columns = columns
        record.key_fields = list(spec.key_fields)
        record.row_count = 0
        record.encrypted = {}
        if encrypt:
            set_encrypted(session, record, encrypt)
        session.flush()
        return record
    for f in spec.fields:
        stored = columns.get(f.field)
        if stored is None:
            ddl = sql_type(f.data_type).compile(dialect=conn.dialect)
            conn.exec_driver_sql(
                f"ALTER TABLE {quote(conn, name)} ADD COLUMN {quote(conn, f.field)} {ddl}"
            )
            columns[f.field] = f.data_type
        elif stored != f.data_type:
            _change_type(conn, name, f, stored)
            columns[f.field] = f.data_type
    encrypted = encrypted_fields(record)
    if list(spec.key_fields) != list(record.key_fields or []):
        drop_key_indexes(conn, name, list(record.key_fields or []))
        create_key_indexes(
            conn,
            physical_table(name, columns, encrypted),
            physical_keys(spec.key_fields, encrypted),
        )
        record.key_fields = list(spec.key_fields)
    record.columns = columns
    session.flush()
    want = spec.encrypt_given(encrypted)
    if want != set(encrypted):
        from cityos.datastore.reencrypt import convert

        convert(conn, session, record, want)
    return record


def _change_type(conn: Connection, name: str, f: FieldSpec, stored: str) -> None:
    if (stored, f.data_type) not in COMPATIBLE:
        raise ProblemError(
            409,
            "column_type_changed",
            "The type of {field} changed from {old} to {new}; the stored data cannot follow. "
            "Keep the old type, or add a new item.",
            field=f.field,
            old=stored,
            new=f.data_type,
        )
    if conn.dialect.name == "postgresql" and stored == "integer":
        ddl = sql_type(f.data_type).compile(dialect=conn.dialect)
        conn.exec_driver_sql(
            f"ALTER TABLE {quote(conn, name)} ALTER COLUMN {quote(conn, f.field)} TYPE {ddl}"
        )


def touch(
    record: DatastoreTable, conn: Connection, batch_id: str, *, mode: str, accepted: int
) -> None:
    """After a load (under the write lock): exact row count, data time, last batch."""
    if mode == "append":
        record.row_count = int(record.row_count or 0) + accepted
    elif mode == "replace":
        record.row_count = accepted
    else:  # upsert: updated or inserted, only a count tells
        name = quote(conn, record.table_name)
        record.row_count = int(conn.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar() or 0)
    record.data_updated_at = utcnow()
    record.last_batch_id = batch_id
