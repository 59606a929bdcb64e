"""数据归集 (the datastore): what other modules and the web layer call.

Loading (``load_file``, ``load_records``) checks ``policy.can_edit``; reading functions
(``query``, ``export``, ``preview``) are internal and leave authorization to the caller
(``policy.can_read_data``). Every function opens its own transactions on the ``Database``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.audit.services import record as audit
from cityos.auth.principal import Principal
from cityos.catalog import policy
from cityos.core.bus import Bus
from cityos.core.db import Database, utcnow
from cityos.core.errors import forbidden, invalid, not_found
from cityos.datastore.crypt import bi_name, encrypted_fields
from cityos.datastore.export import stream
from cityos.datastore.indexer import indexer_for, query_shape
from cityos.datastore.load import check_options, no_key_fields, run_load
from cityos.datastore.models import DatastoreTable, LoadBatch, RejectedRow
from cityos.datastore.query import QueryResult, make_view, run_query
from cityos.datastore.reencrypt import convert, reencrypt_table
from cityos.datastore.sample import Sampler
from cityos.datastore.sources import detect_encoding, open_source, records_source, spool
from cityos.datastore.tables import ResourceSpec, load_spec, spec_of, write_lock

__all__ = [
    "CYCLES",
    "QueryResult",
    "batch_rows",
    "change_with_encryption",
    "encrypted_fields_of",
    "export",
    "get_batch",
    "is_overdue",
    "load_file",
    "load_history",
    "load_records",
    "preview",
    "query",
    "reencrypt_all",
    "set_data_updated_at",
    "table_info",
    "timeliness",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

CYCLES: dict[str, timedelta] = {
    "realtime": timedelta(hours=1),
    "daily": timedelta(days=1),
    "weekly": timedelta(days=7),
    "monthly": timedelta(days=31),
    "quarterly": timedelta(days=92),
    "yearly": timedelta(days=366),
}


def _editable_spec(db: Database, resource_id: str, actor: Principal) -> ResourceSpec:
    with db.session() as session:
        resource, spec = load_spec(session, resource_id)
        if not policy.can_edit(actor, resource):
            raise forbidden("Only the provider's data officers may load data into this resource.")
    if not spec.fields:
        raise invalid(
            "no_items",
            "The resource has no items (信息项): describe its fields in the catalogue first.",
        )
    return spec


def load_file(
    db: Database,
    resource_id: str,
    stream: BinaryIO,
    *,
    filename: str,
    actor: Principal,
    mode: str = "append",
    on_error: str = "reject_rows",
    fmt: str | None = None,
    max_bytes: int | None = None,
    bus: Bus | None = None,
) -> LoadBatch:
    """Load a CSV, XLSX, JSON or NDJSON file; returns the batch (its status says how it went).

    Raises 422 (``unknown_columns``, ``missing_columns``, ``bad_encoding``, ``no_key_fields``,
    ``no_rows``…), 413 ``payload_too_large`` beyond ``max_bytes`` and 415 for other formats.
    """
    spec = _editable_spec(db, resource_id, actor)
    check_options(mode, on_error)
    if mode == "upsert" and not spec.key_fields:
        raise no_key_fields()
    file, _size = spool(stream, max_bytes)
    sampler = Sampler()

    def attempt(encoding: str | None) -> LoadBatch:
        nonlocal sampler
        sampler = Sampler()
        return run_load(
            db,
            spec,
            open_source(file, filename, fmt, encoding=encoding),
            actor=actor,
            mode=mode,
            on_error=on_error,
            source_name=filename or "upload",
            bus=bus,
            sampler=sampler,
        )

    try:
        batch = attempt(None)  # UTF-8 as the first MiB says: no separate scan of the file
    except UnicodeDecodeError:
        # a later part is not UTF-8: the load rolled back; decide on the whole file
        batch = attempt(detect_encoding(file))
    _scan_sample(db, spec, batch, sampler, actor)
    return batch


def load_records(
    db: Database,
    resource_id: str,
    records: list[dict[str, Any]],
    *,
    actor: Principal,
    mode: str = "append",
    on_error: str = "reject_rows",
    bus: Bus | None = None,
) -> LoadBatch:
    """Load records given as objects keyed by field (or Chinese name); row number = position."""
    spec = _editable_spec(db, resource_id, actor)
    check_options(mode, on_error)
    if mode == "upsert" and not spec.key_fields:
        raise no_key_fields()
    sampler = Sampler()
    batch = run_load(
        db,
        spec,
        records_source(records),
        actor=actor,
        mode=mode,
        on_error=on_error,
        source_name="api",
        bus=bus,
        sampler=sampler,
    )
    _scan_sample(db, spec, batch, sampler, actor)
    return batch


def _scan_sample(
    db: Database, spec: ResourceSpec, batch: LoadBatch, sampler: Sampler, actor: Principal
) -> None:
    """Classification scan of the load's sample (after it committed; never fails the load)."""
    if batch.status == "failed" or not sampler.rows:
        return
    from cityos.protection.review import propose_from_sample

    try:
        propose_from_sample(db, spec.id, sampler.fields, sampler.rows, actor, batch_id=batch.id)
    except Exception:  # the load is committed: a scan problem must not turn it into an error
        log.exception("classification scan after load %s failed", batch.id)


# --------------------------------------------------------------------------- encryption


def change_with_encryption(
    db: Database,
    resource_id: str,
    change: Callable[[Session], T],
    *,
    actor: Principal | None = None,
) -> tuple[T, dict[str, list[str]]]:
    """Run ``change`` (e.g. a grade confirmation) and bring the stored table's encryption in
    line with the items' grades, in one transaction under the resource's write lock.

    Returns what ``change`` returned and {"encrypted": [...], "decrypted": [...]}."""
    with write_lock(db, resource_id) as (conn, session):
        result = change(session)
        session.flush()
        changed: dict[str, list[str]] = {"encrypted": [], "decrypted": []}
        record = session.get(DatastoreTable, resource_id)
        if record is not None:
            _resource, spec = load_spec(session, resource_id)
            changed = convert(conn, session, record, spec.encrypt_given(encrypted_fields(record)))
            if changed["encrypted"] or changed["decrypted"]:
                audit(
                    session,
                    actor,
                    "datastore.encryption.change",
                    "resource",
                    resource_id,
                    **changed,
                )
        return result, changed


def encrypted_fields_of(db: Database, resource_id: str) -> list[str]:
    """The fields of a resource stored encrypted at rest."""
    with db.session() as session:
        return encrypted_fields(session.get(DatastoreTable, resource_id))


def reencrypt_all(db: Database) -> dict[str, int]:
    """After a data key rotation: every table's rows moved to its current key (resource id →
    rows rewritten), one batch per transaction."""
    with db.session() as session:
        ids = [
            t.resource_id for t in session.scalars(select(DatastoreTable)) if encrypted_fields(t)
        ]
    return {rid: reencrypt_table(db, rid) for rid in ids}


# --------------------------------------------------------------------------- reading


def query(
    db: Database,
    resource_id: str,
    *,
    filters: dict[str, Any] | None = None,
    q: str | None = None,
    sort: str | None = None,
    limit: int = 100,
    offset: int = 0,
    fields: list[str] | None = None,
    include_total: bool = True,
) -> QueryResult:
    """Records of a resource (no authorization here: check ``policy.can_read_data`` first)."""
    with db.session() as session:
        _resource, spec = load_spec(session, resource_id)
        view = make_view(session, spec)
        result = run_query(
            session,
            view,
            filters=filters,
            q=q,
            sort=sort,
            limit=limit,
            offset=offset,
            fields=fields,
            include_total=include_total,
        )
    if view.record is not None:
        shape = query_shape(filters, sort)
        if all(spec.field(f) is not None for f in shape) and shape[:1] != spec.key_fields[:1]:
            # an encrypted field is looked up through its blind index (which has its own index)
            alone = len(shape) == 1 and shape[0] in view.encrypted
            shape = tuple(bi_name(f) if f in view.encrypted else f for f in shape)
            if not alone:
                indexer_for(db).note(resource_id, shape, int(view.record.row_count or 0))
    return result


def export(
    db: Database,
    resource_id: str,
    fmt: str,
    *,
    filters: dict[str, Any] | None = None,
    q: str | None = None,
    sort: str | None = None,
    fields: list[str] | None = None,
) -> tuple[str, str, Iterator[bytes]]:
    """(media type, file name, byte chunks); errors are raised before the first chunk."""
    with db.session() as session:
        _resource, spec = load_spec(session, resource_id)
        view = make_view(session, spec)
    return stream(db, view, fmt, filters=filters, q=q, sort=sort, fields=fields)


def preview(db: Database, resource_id: str, limit: int = 20) -> QueryResult:
    return query(db, resource_id, limit=limit)


def table_info(db: Database, resource_id: str) -> DatastoreTable | None:
    with db.session() as session:
        return session.get(DatastoreTable, resource_id)


def load_history(db: Database, resource_id: str, limit: int = 20) -> list[LoadBatch]:
    """Newest first."""
    with db.session() as session:
        return list(
            session.scalars(
                select(LoadBatch)
                .where(LoadBatch.resource_id == resource_id)
                .order_by(LoadBatch.started_at.desc(), LoadBatch.id)
                .limit(limit)
            )
        )


def get_batch(db: Database, batch_id: str) -> LoadBatch | None:
    with db.session() as session:
        return session.get(LoadBatch, batch_id)


def batch_for(db: Database, batch_id: str, principal: Principal) -> LoadBatch:
    """A batch its resource's editors (the provider's officers, admins) may see; else 404."""
    from cityos.catalog import services as catalog

    with db.session() as session:
        batch = session.get(LoadBatch, batch_id)
        resource = catalog.get_resource_internal(session, batch.resource_id) if batch else None
        allowed = batch is not None and (
            policy.can_edit(principal, resource) if resource else principal.is_admin
        )
    if batch is None or not allowed:
        raise not_found("batch", batch_id)
    return batch


def batch_rows(
    db: Database, batch_id: str, *, limit: int = 100, offset: int = 0
) -> list[RejectedRow]:
    """Rejected rows of a batch in source order."""
    with db.session() as session:
        return list(
            session.scalars(
                select(RejectedRow)
                .where(RejectedRow.batch_id == batch_id)
                .order_by(RejectedRow.seq)
                .limit(max(0, min(limit, 1000)))
                .offset(max(0, offset))
            )
        )


def rejected_count(db: Database, batch_id: str) -> int:
    with db.session() as session:
        stmt = select(func.count()).select_from(RejectedRow).where(RejectedRow.batch_id == batch_id)
        return int(session.scalar(stmt) or 0)


# --------------------------------------------------------------------------- timeliness


def set_data_updated_at(
    db: Database, resource_id: str, at: datetime, *, actor: Principal
) -> DatastoreTable:
    """Record when the data was last brought up to date (e.g. data loaded by another channel,
    or the demo's provider that stopped uploading). The provider's officers or the bureau."""
    if at.tzinfo is None:
        raise ValueError("naive datetime")
    with db.session() as session:
        resource, _spec = load_spec(session, resource_id)
        if not policy.can_edit(actor, resource):
            raise forbidden("Only the provider's data officers may load data into this resource.")
        table = session.get(DatastoreTable, resource_id)
        if table is None:
            raise not_found("datastore", resource_id)
        previous = table.data_updated_at
        table.data_updated_at = at
        audit(
            session,
            actor,
            "datastore.set_updated_at",
            "resource",
            resource_id,
            previous=previous.isoformat() if previous else None,
            at=at.isoformat(),
        )
        return table


def due_at(cycle: str, updated: datetime | None) -> datetime | None:
    period = CYCLES.get(cycle)
    if period is None or updated is None:
        return None
    return updated + period


def _entry(spec: ResourceSpec, table: DatastoreTable, now: datetime) -> dict[str, Any]:
    due = due_at(spec.update_cycle, table.data_updated_at)
    # irregular: never overdue; never loaded: overdue
    overdue = spec.update_cycle in CYCLES and (due is None or now > due)
    return {
        "resource_id": spec.id,
        "code": spec.code,
        "name": spec.name,
        "provider_id": spec.provider_id,
        "update_cycle": spec.update_cycle,
        "data_updated_at": table.data_updated_at,
        "due_at": due,
        "overdue": overdue,
        "overdue_by": (now - due) if (overdue and due is not None) else None,
        "row_count": table.row_count,
        "last_batch_id": table.last_batch_id,
    }


def _timeliness(
    session: Session, provider_ids: frozenset[str] | None, now: datetime
) -> list[dict[str, Any]]:
    from cityos.catalog import services as catalog

    tables = list(session.scalars(select(DatastoreTable)))
    ids = [t.resource_id for t in tables]
    resources = catalog.get_resources_internal(session, ids)
    wanted = [
        t
        for t in tables
        if t.resource_id in resources
        and (provider_ids is None or resources[t.resource_id].provider_id in provider_ids)
    ]
    items = catalog.items_for(session, [t.resource_id for t in wanted])
    out = []
    for table in wanted:
        spec = spec_of(session, resources[table.resource_id], items[table.resource_id])
        if spec.fields:
            out.append(_entry(spec, table, now))
    out.sort(key=_urgency)
    return out


def _urgency(entry: dict[str, Any]) -> tuple[int, datetime, str]:
    """Overdue first (never loaded, then the longest overdue), then the next due."""
    if entry["overdue"]:
        return (0, entry["due_at"] or datetime.min.replace(tzinfo=UTC), entry["code"])
    return (1, entry["due_at"] or datetime.max.replace(tzinfo=UTC), entry["code"])


def timeliness(
    session_or_db: Session | Database,
    *,
    provider_ids: frozenset[str] | set[str] | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Per structured resource with a datastore: last update, cycle, due date, overdue flag.

    Overdue resources first (most overdue first). ``provider_ids`` limits to those providers.
    """
    now = now or utcnow()
    providers = frozenset(provider_ids) if provider_ids is not None else None
    if isinstance(session_or_db, Database):
        with session_or_db.session() as session:
            return _timeliness(session, providers, now)
    return _timeliness(session_or_db, providers, now)


def is_overdue(
    session_or_db: Session | Database, resource_id: str, *, now: datetime | None = None
) -> bool:
    """Whether the resource's data is older than its update cycle allows (irregular: never)."""
    from cityos.catalog import services as catalog

    now = now or utcnow()

    def check(session: Session) -> bool:
        resource = catalog.get_resource_internal(session, resource_id)
        if resource is None:
            raise not_found("resource", resource_id)
        if resource.update_cycle not in CYCLES:
            return False
        table = session.get(DatastoreTable, resource_id)
        due = due_at(resource.update_cycle, table.data_updated_at if table else None)
        return due is None or now > due

    if isinstance(session_or_db, Database):
        with session_or_db.session() as session:
            return check(session)
    return check(session_or_db)
