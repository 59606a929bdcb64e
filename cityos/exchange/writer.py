"""Group commit of the exchange's audit records, and batched last-use bookkeeping of codes.

Every exchange call needs one audit record committed before its answer is sent. One transaction
per call would serialise every call on the audit log's counter (and on SQLite on the single
write lock), so calls hand their record to one writer thread per process instead:

1. the call adds (action, target, detail) to its event loop's batch and waits; a batch is handed
   to the writer thread ``GATHER_WINDOW`` after its first record (one wake-up per batch);
2. the writer takes every batch handed over (up to ``MAX_BATCH`` records), appends it with
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
import fcntl
import logging
import os
import queue
import threading
import time
import weakref
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
GATHER_WINDOW = 0.010
USAGE_INTERVAL = 1.0


@dataclass
class Entry:
    action: str
    target_type: str
    target_id: str | None
    detail: dict[str, Any]


@dataclass
class Job:
    """Records handed to the writer thread together, and what to call once they are committed."""

    entries: list[Entry]
    done: Callable[[BaseException | None], None]


def audit_unavailable() -> ProblemError:
    return ProblemError(
        503, "audit_unavailable", "The call could not be audited; nothing was served. Try again."
    )


_STOP = object()


class _LoopBatch:
    """Records of one event loop gathered for ``GATHER_WINDOW``, then handed over as one job:
    the writer thread is woken once per batch, not once per call, and the loop once per commit."""

    def __init__(self, writer: AuditWriter, loop: asyncio.AbstractEventLoop) -> None:
        self.writer = writer
        self.loop = loop
        self.entries: list[Entry] = []
        self.futures: list[asyncio.Future[None]] = []

    def add(self, entry: Entry) -> asyncio.Future[None]:
        future: asyncio.Future[None] = self.loop.create_future()
        if not self.entries:
            self.loop.call_later(GATHER_WINDOW, self.hand_over)
        self.entries.append(entry)
        self.futures.append(future)
        return future

    def hand_over(self) -> None:
        entries, futures = self.entries, self.futures
        self.entries, self.futures = [], []
        if not entries:
            return
        loop = self.loop

        def done(exc: BaseException | None) -> None:
            loop.call_soon_threadsafe(_settle_all, futures, exc)

        self.writer.submit(Job(entries, done))


class AuditWriter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: queue.SimpleQueue[Job | object] = queue.SimpleQueue()
        self._usage: dict[str, tuple[datetime, int]] = {}
        self._usage_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopBatch] = (
            weakref.WeakKeyDictionary()
        )
        self.batches = 0
        self.records = 0
        self._lock_fd: int | None = None

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

    def submit(self, job: Job) -> None:
        self._ensure()
        self._queue.put(job)

    async def write(
        self, action: str, target_type: str, target_id: str | None, detail: dict[str, Any]
    ) -> None:
        """Queue a record and return once it is committed (raises 503 if it could not be)."""
        loop = asyncio.get_running_loop()
        batch = self._loops.get(loop)
        if batch is None:
            batch = self._loops[loop] = _LoopBatch(self, loop)
        future = batch.add(Entry(action, target_type, target_id, detail))
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

        self.submit(Job([Entry(action, target_type, target_id, detail)], done))
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
        for batch in list(self._loops.values()):
            if batch.loop.is_closed() or not batch.loop.is_running():
                batch.hand_over()
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
            jobs: list[Job] = [first] if isinstance(first, Job) else []
            size = sum(len(j.entries) for j in jobs)
            while jobs and size < MAX_BATCH and not stop:  # everything handed over meanwhile
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                assert isinstance(item, Job)
                jobs.append(item)
                size += len(item.entries)
            if jobs:
                self._commit(jobs)
            if stop or time.monotonic() >= next_usage:
                self.flush_usage()
                next_usage = time.monotonic() + USAGE_INTERVAL
            if stop:
                return

    def _file_lock(self) -> int | None:
        """SQLite: a lock file serialising the audit writers of every process of this database.

        SQLite makes a writer that finds the database locked sleep and retry (1, 2, 5, 10 … ms);
        with several worker processes their writers would keep sleeping on each other's
        commits. Waiting on ``flock`` instead wakes a writer the moment the other one is done.
        """
        if self._lock_fd is not None or not self.db.is_sqlite:
            return self._lock_fd
        path = self.db.engine.url.database
        if not path or path == ":memory:":
            return None
        self._lock_fd = os.open(f"{path}.exchange-lock", os.O_RDWR | os.O_CREAT, 0o600)
        return self._lock_fd

    def _commit(self, jobs: list[Job]) -> None:
        lock = self._file_lock()
        if lock is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            self._transaction(jobs)
        finally:
            if lock is not None:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _transaction(self, jobs: list[Job]) -> None:
        try:
            with self.db.session() as session:
                for job in jobs:
                    for entry in job.entries:
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
            log.exception("could not commit %d exchange audit jobs", len(jobs))
            for job in jobs:
                job.done(exc)
            return
        self.batches += 1
        self.records += sum(len(j.entries) for j in jobs)
        for job in jobs:
            job.done(None)

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


def _settle_all(futures: list[asyncio.Future[None]], exc: BaseException | None) -> None:
    for future in futures:
        if future.done():
            continue
        if exc is None:
            future.set_result(None)
        else:
            future.set_exception(exc)
