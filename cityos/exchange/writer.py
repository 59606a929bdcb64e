"""Group commit of the exchange's audit records, and batched last-use bookkeeping of codes.

Every exchange call needs one audit record committed before its answer is sent. One transaction
per call would serialise every call on the audit log's counter (and on SQLite on the single
write lock), so calls hand their record to one writer thread per process instead:

1. the call queues (action, target, detail) and waits;
2. the writer takes everything queued within ``GATHER_WINDOW`` of the first record (up to
   ``MAX_BATCH``), appends it with
   ``cityos.audit.services.record`` in ONE transaction, whose commit gives the records their
   dense leaf indexes under the log counter's lock (the leaf-order guarantees of
   cityos/audit/services.py are kept: it is an ordinary audited transaction), and commits;
3. it wakes the waiting calls; a call answers only once its record is committed. If the commit
   fails, every call of the batch fails (503 ``audit_unavailable``): nothing is served unaudited.

``last_used_at``/``use_count`` of the codes are accumulated in memory and written every
``USAGE_INTERVAL`` seconds (and when the writer stops), one UPDATE per code used since.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, update

from cityos.audit.services import record
from cityos.core.db import Database, utcnow
from cityos.core.errors import ProblemError
from cityos.exchange.models import AuthorizationCode

log = logging.getLogger(__name__)

MAX_BATCH = 1000
# after the first record, wait this long for others: one commit then serves many calls (the
# latency a call pays for it is bounded by this window plus one commit)
GATHER_WINDOW = 0.004
USAGE_INTERVAL = 1.0


@dataclass
class Entry:
    action: str
    target_type: str
    target_id: str | None
    detail: dict[str, Any]
    done: Callable[[BaseException | None], None]


def audit_unavailable() -> ProblemError:
    return ProblemError(
        503, "audit_unavailable", "The call could not be audited; nothing was served. Try again."
    )


_STOP = object()


class AuditWriter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: queue.SimpleQueue[Entry | object] = queue.SimpleQueue()
        self._usage: dict[str, tuple[datetime, int]] = {}
        self._usage_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.batches = 0
        self.records = 0

    # ------------------------------------------------------------------ callers

    def _ensure(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="cityos-exchange-audit", daemon=True
                )
                self._thread.start()

    async def write(
        self, action: str, target_type: str, target_id: str | None, detail: dict[str, Any]
    ) -> None:
        """Queue a record and return once it is committed (raises 503 if it could not be)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def done(exc: BaseException | None) -> None:
            loop.call_soon_threadsafe(_settle, future, exc)

        self._ensure()
        self._queue.put(Entry(action, target_type, target_id, detail, done))
        try:
            await future
        except Exception as exc:
            raise audit_unavailable() from exc

    def write_sync(
        self, action: str, target_type: str, target_id: str | None, detail: dict[str, Any]
    ) -> None:
        """The same from a worker thread."""
        event = threading.Event()
        failure: list[BaseException] = []

        def done(exc: BaseException | None) -> None:
            if exc is not None:
                failure.append(exc)
            event.set()

        self._ensure()
        self._queue.put(Entry(action, target_type, target_id, detail, done))
        event.wait()
        if failure:
            raise audit_unavailable() from failure[0]

    def touch(self, key_id: str, at: datetime | None = None) -> None:
        """Remember a use of a code (written within USAGE_INTERVAL seconds)."""
        at = at or utcnow()
        with self._usage_lock:
            _last, count = self._usage.get(key_id, (at, 0))
            self._usage[key_id] = (at, count + 1)

    def close(self, timeout: float = 10.0) -> None:
        """Commit what is queued, write the usage, stop the thread."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(timeout)
        self._thread = None
        self.flush_usage()

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        next_usage = time.monotonic() + USAGE_INTERVAL
        while True:
            wait = max(0.0, next_usage - time.monotonic())
            try:
                first = self._queue.get(timeout=wait)
            except queue.Empty:
                first = None
            stop = first is _STOP
            batch: list[Entry] = [first] if isinstance(first, Entry) else []
            window = time.monotonic() + GATHER_WINDOW
            while batch and len(batch) < MAX_BATCH and not stop:
                try:
                    item = self._queue.get(timeout=max(0.0, window - time.monotonic()))
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                assert isinstance(item, Entry)
                batch.append(item)
            if batch:
                self._commit(batch)
            if stop or time.monotonic() >= next_usage:
                self.flush_usage()
                next_usage = time.monotonic() + USAGE_INTERVAL
            if stop:
                return

    def _commit(self, batch: list[Entry]) -> None:
        try:
            with self.db.session() as session:
                for entry in batch:
                    row = record(
                        session,
                        None,
                        entry.action,
                        entry.target_type,
                        entry.target_id,
                        **entry.detail,
                    )
                    ip = entry.detail.get("ip")
                    row.ip = str(ip)[:45] if ip else None
        except Exception as exc:
            log.exception("could not commit %d exchange audit records", len(batch))
            for entry in batch:
                entry.done(exc)
            return
        self.batches += 1
        self.records += len(batch)
        for entry in batch:
            entry.done(None)

    def flush_usage(self) -> None:
        with self._usage_lock:
            usage, self._usage = self._usage, {}
        if not usage:
            return
        table = cast(Table, AuthorizationCode.__table__)
        stmt = (
            update(table)
            .where(table.c.key_id == bindparam("k"))
            .values(
                last_used_at=case(
                    (
                        table.c.last_used_at.is_(None),
                        bindparam("at", type_=table.c.last_used_at.type),
                    ),
                    (table.c.last_used_at < bindparam("at"), bindparam("at")),
                    else_=table.c.last_used_at,
                ),
                use_count=table.c.use_count + bindparam("n"),
            )
        )
        rows = [{"k": k, "at": at, "n": n} for k, (at, n) in sorted(usage.items())]
        try:
            with self.db.engine.begin() as conn:
                conn.execute(stmt, rows)
        except Exception:
            log.exception("could not write the last use of %d codes", len(rows))
            with self._usage_lock:  # try again next time
                for k, (at, n) in usage.items():
                    last, more = self._usage.get(k, (at, 0))
                    self._usage[k] = (max(last, at), more + n)


def _settle(future: asyncio.Future[None], exc: BaseException | None) -> None:
    if future.done():
        return
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)
