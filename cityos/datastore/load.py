"""Loading (归集): map the source's columns to items, convert row by row, write in chunks.

One load is one transaction: its data, its batch record (with the outcome), its rejected rows,
the table's row count and the audit record commit together, so an acknowledged batch survives a
crash and a crash mid-load leaves no partial rows. A failed load (all or nothing with bad rows,
or no row accepted) rolls the data back and records the failed batch in its own transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from cityos.audit.services import record as audit
from cityos.auth.principal import Principal
from cityos.core.bus import Bus
from cityos.core.db import Database, new_id, utcnow
from cityos.core.errors import ProblemError, invalid
from cityos.core.i18n import lazy
from cityos.datastore.convert import (
    RowError,
    Slow,
    compile_row,
    stored_display,
    text_converter,
    value_converter,
)
from cityos.datastore.crypt import (
    EncryptingWriter,
    encrypted_fields,
    physical_layout,
    writer_cipher,
)
from cityos.datastore.models import MODES, ON_ERROR, DatastoreTable, LoadBatch, RejectedRow
from cityos.datastore.sample import Sampler
from cityos.datastore.sources import BrokenRecord, Source
from cityos.datastore.tables import FieldSpec, ResourceSpec, sync_table, touch, write_lock
from cityos.datastore.writers import PostgresWriter, SqliteWriter, make_writer

CHUNK_ROWS = 10_000
ANALYZE_ROWS = 10_000  # PostgreSQL: refresh statistics after loads at least this large
MAX_LISTED = 10_000  # rejected rows stored with their details; the rest are counted
RAW_VALUE_CHARS = 200
TOPIC = "datastore.loaded"

MSG_WIDTH = lazy("The row has {count} values; the header has {expected}.")
MSG_DUPLICATE = lazy("A record with the same key already exists ({key}).")


@dataclass
class Mapping:
    """Which item each source column feeds."""

    fields: list[FieldSpec]
    headers: list[str]


def map_columns(spec: ResourceSpec, headers: list[str], mode: str) -> Mapping:
    """Headers name items by field (any case) or Chinese name; 422 for anything else."""
    by_field = {f.field: f for f in spec.fields}
    by_lower = {f.field.lower(): f for f in spec.fields}
    by_name = {f.name: f for f in spec.fields}
    fields: list[FieldSpec] = []
    unknown: list[str] = []
    seen: dict[str, str] = {}
    duplicates: list[str] = []
    for header in headers:
        f = by_field.get(header) or by_lower.get(header.lower()) or by_name.get(header)
        if f is None:
            unknown.append(header or "''")
            continue
        if f.field in seen:
            duplicates.append(f"{seen[f.field]} / {header}")
        seen[f.field] = header
        fields.append(f)
    if unknown:
        problem = invalid(
            "unknown_columns",
            "These columns are not items of the resource: {columns}. "
            "Name columns by the item's field or Chinese name.",
            columns=", ".join(unknown),
        )
        problem.errors = [{"field": c, "code": "unknown_column", "message": c} for c in unknown]
        raise problem
    if duplicates:
        raise invalid(
            "duplicate_columns",
            "These columns name the same item twice: {columns}.",
            columns="; ".join(duplicates),
        )
    missing = [
        f for f in spec.fields if f.field not in seen and (f.required or f.field in spec.key_fields)
    ]
    if missing:
        problem = invalid(
            "missing_columns",
            "Required columns are missing: {columns}.",
            columns=", ".join(f"{f.name} ({f.field})" for f in missing),
        )
        problem.errors = [
            {"field": f.field, "code": "missing_column", "message": f.name} for f in missing
        ]
        raise problem
    if mode == "upsert" and not spec.key_fields:
        raise no_key_fields()
    return Mapping(fields, headers)


def no_key_fields() -> ProblemError:
    return invalid(
        "no_key_fields",
        "Update or insert by key needs key fields; declare them in the catalogue first.",
    )


def check_options(mode: str, on_error: str) -> None:
    if mode not in MODES:
        raise invalid(
            "bad_mode", "Unknown load mode {mode}: use append, upsert or replace.", mode=mode
        )
    if on_error not in ON_ERROR:
        raise invalid(
            "bad_on_error",
            "Unknown error handling {on_error}: use reject_rows or all_or_nothing.",
            on_error=on_error,
        )


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, BrokenRecord):
        value = value.raw
        if isinstance(value, str):
            return value[:RAW_VALUE_CHARS]
        try:
            return json.loads(
                json.dumps(value, ensure_ascii=False, default=str)[: RAW_VALUE_CHARS * 5]
            )
        except ValueError:
            return str(value)[:RAW_VALUE_CHARS]
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= RAW_VALUE_CHARS else text[:RAW_VALUE_CHARS] + "…"


class _Outcome:
    """Counts and the rejected rows kept for listing."""

    def __init__(self, headers: list[str]) -> None:
        self.headers = headers
        self.total = 0
        self.accepted = 0
        self.rejected = 0
        self.listed: list[dict[str, Any]] = []

    def reject(self, number: int, message: str, params: dict[str, Any], row: Any) -> None:
        self.rejected += 1
        if len(self.listed) >= MAX_LISTED:
            return
        if len(row) == 1 and isinstance(row[0], BrokenRecord):
            raw: Any = _jsonable(row[0])
        else:
            raw = {
                (self.headers[i] if i < len(self.headers) else f"#{i + 1}"): _jsonable(v)
                for i, v in enumerate(row)
            }
        self.listed.append(
            {
                "seq": len(self.listed) + 1,
                "row_number": number,
                "reason": message,
                "params": params,
                "raw": raw,
            }
        )


class _Rollback(Exception):
    """Leave the load transaction without committing (the load failed)."""


def run_load(
    db: Database,
    spec: ResourceSpec,
    source: Source,
    *,
    actor: Principal,
    mode: str,
    on_error: str,
    source_name: str,
    bus: Bus | None = None,
    sampler: Sampler | None = None,
) -> LoadBatch:
    """Load ``source`` into the resource's table; the source is closed in every case.
    ``sampler`` receives a uniform sample of the accepted rows (for the classification scan)."""
    try:
        return _run_load(
            db,
            spec,
            source,
            actor=actor,
            mode=mode,
            on_error=on_error,
            source_name=source_name,
            bus=bus,
            sampler=sampler,
        )
    finally:
        source.close()


def _run_load(
    db: Database,
    spec: ResourceSpec,
    source: Source,
    *,
    actor: Principal,
    mode: str,
    on_error: str,
    source_name: str,
    bus: Bus | None,
    sampler: Sampler | None = None,
) -> LoadBatch:
    check_options(mode, on_error)
    mapping = map_columns(spec, source.columns, mode)
    if not mapping.fields:
        raise invalid("no_rows", "The file has no header row and no data.")
    sqlite = db.is_sqlite
    keys = spec.key_fields
    make = value_converter if source.typed else text_converter
    converters = [
        make(
            f.data_type,
            header,
            length=f.length if f.data_type in ("string", "text") else None,
            required=f.required,
            key=f.field in keys,
            sqlite=sqlite,
        )
        for f, header in zip(mapping.fields, mapping.headers, strict=True)
    ]
    fast = None
    if not source.typed:
        fast = compile_row(
            [
                (
                    f.data_type,
                    f.length if f.data_type in ("string", "text") else None,
                    f.required or f.field in keys,
                )
                for f in mapping.fields
            ],
            sqlite=sqlite,
        )
    columns = [f.field for f in mapping.fields]
    types = [f.data_type for f in mapping.fields]
    if sampler is not None:
        sampler.fields = list(columns)
    key_positions = [columns.index(k) for k in keys]

    # DDL in its own short transaction: on PostgreSQL an ALTER must not lock readers for a load
    with write_lock(db, spec.id) as (conn, session):
        sync_table(conn, session, spec)

    batch = LoadBatch(
        id=new_id(),
        resource_id=spec.id,
        actor_id=actor.user_id,
        actor_name=actor.display_name or actor.username,
        started_at=utcnow(),
        source=source_name[:255],
        format=source.format,
        encoding=source.encoding,
        mode=mode,
        on_error=on_error,
        status="succeeded",
    )
    outcome = _Outcome(mapping.headers)
    try:
        with write_lock(db, spec.id) as (conn, session):
            writer = _writer(conn, session, spec, columns, types, keys, mode)
            try:
                writer.start()
                _copy_rows(
                    source,
                    converters,
                    fast,
                    writer,
                    outcome,
                    key_positions,
                    columns,
                    types,
                    on_error,
                    sampler,
                )
            finally:
                writer.finish()
            if outcome.total == 0:
                raise invalid("no_rows", "The file has no data rows.")
            failed = outcome.rejected > 0 and (
                on_error == "all_or_nothing" or outcome.accepted == 0
            )
            if failed:
                raise _Rollback
            batch.status = "partial" if outcome.rejected else "succeeded"
            _finish(session, batch, outcome, actor)
            record = session.get(DatastoreTable, spec.id)
            assert record is not None  # created by sync_table above
            before = int(record.row_count or 0)
            touch(record, conn, batch.id, mode=mode, accepted=outcome.accepted)
            if _is_postgres(writer) and outcome.accepted >= max(ANALYZE_ROWS, before // 10):
                writer.analyze()
    except _Rollback:
        batch.status = "failed"
        outcome.accepted = 0
        with db.session() as session:
            _finish(session, batch, outcome, actor)
    if bus is not None and batch.status != "failed":
        bus.publish(
            TOPIC,
            {"resource_id": spec.id, "batch_id": batch.id, "rows_accepted": batch.rows_accepted},
        )
    return batch


def _writer(
    conn: Any,
    session: Session,
    spec: ResourceSpec,
    columns: list[str],
    types: list[str],
    keys: tuple[str, ...],
    mode: str,
) -> Any:
    """The bulk writer; with encrypted fields, wrapped to encrypt and index them (crypt.py)."""
    record = session.get(DatastoreTable, spec.id)
    encrypted = set(encrypted_fields(record)) & set(columns)
    if record is None or not encrypted:
        return make_writer(conn, spec.table_name, columns, types, keys, mode)
    physical, physical_types, physical_keys, fields = physical_layout(
        columns, types, keys, set(encrypted_fields(record))
    )
    inner = make_writer(conn, spec.table_name, physical, physical_types, physical_keys, mode)
    return EncryptingWriter(inner, writer_cipher(session, record), fields)


def _is_postgres(writer: Any) -> bool:
    inner = writer.inner if isinstance(writer, EncryptingWriter) else writer
    return isinstance(inner, PostgresWriter)


def _finish(session: Session, batch: LoadBatch, outcome: _Outcome, actor: Principal) -> None:
    batch.finished_at = utcnow()
    batch.rows_total = outcome.total
    batch.rows_accepted = outcome.accepted
    batch.rows_rejected = outcome.rejected
    batch.rejected_listed = len(outcome.listed)
    session.add(batch)
    session.flush()
    if outcome.listed:
        # duplicate keys are found when their chunk is written: list in source order
        outcome.listed.sort(key=lambda r: r["row_number"])
        for seq, r in enumerate(outcome.listed, start=1):
            r["seq"] = seq
        session.execute(insert(RejectedRow), [{"batch_id": batch.id, **r} for r in outcome.listed])
    audit(
        session,
        actor,
        "datastore.load",
        "resource",
        batch.resource_id,
        batch_id=batch.id,
        source=batch.source,
        mode=batch.mode,
        on_error=batch.on_error,
        status=batch.status,
        rows_accepted=batch.rows_accepted,
        rows_rejected=batch.rows_rejected,
    )
    session.flush()


class _Pipeline:
    """Writes the chunks; on PostgreSQL, chunk N in a worker thread while chunk N+1 converts.

    One chunk at a time is in flight and the connection is only used by the worker while it
    writes, so the DB-API connection is never used by two threads at once. The worker mostly
    waits for the server (COPY, INSERT … SELECT) without the GIL. SQLite writes in the caller's
    thread: its inserts need the GIL for every row, so a worker would only convoy.
    """

    def __init__(
        self,
        writer: Any,
        outcome: _Outcome,
        key_positions: list[int],
        columns: list[str],
        types: list[str],
        *,
        threaded: bool,
        sampler: Sampler | None = None,
    ) -> None:
        self.writer = writer
        self.outcome = outcome
        self.key_positions = key_positions
        self.columns = columns
        self.pool = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="datastore-load")
            if threaded
            else None
        )
        self.types = types
        self.sampler = sampler
        self.pending: tuple[Future[list[int]], list[Any], list[int]] | None = None

    def submit(self, rows: list[Any], numbers: list[int]) -> None:
        self.collect()
        if not rows:
            return
        if self.sampler is not None:
            self.sampler.offer(rows)
        if self.pool is None:
            done: Future[list[int]] = Future()
            done.set_result(self.writer.write(rows))
            self.pending = (done, rows, numbers)
        else:
            self.pending = (self.pool.submit(self.writer.write, rows), rows, numbers)

    def collect(self) -> None:
        """Wait for the chunk in flight; its rows whose key is taken become rejected rows."""
        if self.pending is None:
            return
        future, rows, numbers = self.pending
        self.pending = None
        taken = future.result()
        for position in taken:
            values = rows[position]
            key = ", ".join(f"{self.columns[i]}={values[i]}" for i in self.key_positions)
            raw = [stored_display(v, t) for v, t in zip(values, self.types, strict=True)]
            self.outcome.reject(numbers[position], MSG_DUPLICATE, {"key": key}, raw)
        self.outcome.accepted += len(rows) - len(taken)

    def close(self) -> None:
        """Wait for the worker to finish (also after an error, before the rollback)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True)


def _copy_rows(
    source: Source,
    converters: list[Any],
    fast: Callable[[Any], Sequence[Any]] | None,
    writer: Any,
    outcome: _Outcome,
    key_positions: list[int],
    columns: list[str],
    types: list[str],
    on_error: str,
    sampler: Sampler | None = None,
) -> None:
    """The hot loop: no per-row dicts, no SQLAlchemy; one list per accepted row.

    ``fast`` (CSV) converts a whole row in one call; when it declines, the per-cell
    ``converters`` give the value or the precise reason.
    """
    width = len(converters)
    all_or_nothing = on_error == "all_or_nothing"
    keyed = bool(key_positions)
    chunk = CHUNK_ROWS
    buf: list[Sequence[Any]] = []
    numbers: list[int] = []
    total = 0
    stop_writing = False
    reject = outcome.reject
    declined = (ValueError, LookupError, TypeError, OverflowError)
    pipeline = _Pipeline(
        writer,
        outcome,
        key_positions,
        columns,
        types,
        threaded=not isinstance(getattr(writer, "inner", writer), SqliteWriter),
        sampler=sampler,
    )
    try:
        for number, row in source.rows:
            total += 1
            if len(row) != width:
                if len(row) == 1 and isinstance(row[0], BrokenRecord):
                    message, params = row[0].reason
                    reject(number, message, params, row)
                else:
                    reject(number, MSG_WIDTH, {"count": len(row), "expected": width}, row)
                stop_writing = stop_writing or all_or_nothing
                continue
            try:
                if fast is None:
                    raise Slow
                values = fast(row)
            except declined:
                try:
                    values = [c(v) for c, v in zip(converters, row)]  # noqa: B905 - same width
                except RowError as err:
                    reject(number, err.message, err.params, row)
                    stop_writing = stop_writing or all_or_nothing
                    continue
            if stop_writing:
                continue
            buf.append(values)
            if keyed:
                numbers.append(number)
            if len(buf) >= chunk:
                pipeline.submit(buf, numbers)
                buf, numbers = [], []
                if all_or_nothing and outcome.rejected:
                    stop_writing = True
        if not stop_writing:
            pipeline.submit(buf, numbers)
        pipeline.collect()
    finally:
        pipeline.close()
    outcome.total = total
