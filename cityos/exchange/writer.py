"""Group commit of the exchange's audit records, and batched last-use bookkeeping of codes.

Every exchange call needs one audit record committed before its answer is sent. One transaction
per call would serialise every call on the audit log's counter (and on SQLite on the single
write lock), so calls are committed in groups:

1. a call adds (action, target, detail) to its event loop's batch and waits;
2. ``GATHER_WINDOW`` after the first record of a batch, the loop appends the whole batch with
   ``cityos.audit.services.record`` in ONE transaction, whose commit gives the records their
   dense leaf indexes under the log counter's lock (the leaf-order guarantees of
   cityos/audit/services.py are kept: it is an ordinary audited transaction); records arriving
   meanwhile form the next batch, committed as soon as this one is done;
3. the calls of the batch are answered once the commit returned. If it fails, every call of the
   batch answers 503 ``audit_unavailable``: nothing is served unaudited.

The transaction runs in the event loop's own thread: run in a helper thread it had to win the
interpreter lock from the busy loop for every step, and a commit of a few milliseconds of work
took tens (measured: docs/benchmarks.md). Commits of the processes of one host take turns
through a lock file (``flock``): the next writer wakes the moment the previous one is done,
instead of SQLite's sleeping retries, and a loop never blocks on another process's transaction
(waiting for the lock happens in a worker thread). ``write_sync`` (from threads) goes through a
writer thread with the same lock.

``last_used_at``/``use_count`` of the codes are accumulated in memory and written every
``USAGE_INTERVAL`` seconds (and when the writer stops), one UPDATE per code used since.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import os
import queue
import tempfile
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
# after the first record of a batch, wait this long for others: one commit then serves many
# calls (a call's wait is bounded by this window plus about one commit)
GATHER_WINDOW = 0.004
USAGE_INTERVAL = 1.0


@dataclass
class Entry:
    action: str
    target_type: str
    target_id: str | None
    detail: dict[str, Any]


@dataclass
class Job:
    """Records handed to the writer thread, and what to call once they are committed."""

    entries: list[Entry]
    done: Callable[[BaseException | None], None]


def audit_unavailable() -> ProblemError:
    return ProblemError(
        503, "audit_unavailable", "The call could not be audited; nothing was served. Try again."
    )


_STOP = object()


class _LoopBatch:
    """The records of one event loop waiting for their commit (at most one commit at a time)."""

    def __init__(self, writer: AuditWriter, loop: asyncio.AbstractEventLoop) -> None:
        self.writer = writer
        self.loop = loop
        self.entries: list[Entry] = []
        self.futures: list[asyncio.Future[None]] = []
        self.busy = False

    def add(self, entry: Entry) -> asyncio.Future[None]:
        future: asyncio.Future[None] = self.loop.create_future()
        if not self.entries and not self.busy:
            self.loop.call_later(GATHER_WINDOW, self.start)
        self.entries.append(entry)
        self.futures.append(future)
        return future

    def start(self) -> None:
        if self.busy or not self.entries:
            return
        self.busy = True
        self.loop.create_task(self._run())

    async def _run(self) -> None:
        try:
            while self.entries:  # what arrived during a commit goes in the next one
                entries, futures = self.entries[:MAX_BATCH], self.futures[:MAX_BATCH]
                del self.entries[:MAX_BATCH], self.futures[:MAX_BATCH]
                failure = await self.writer.commit_here(entries)
                _settle_all(futures, failure)
        finally:
            self.busy = False

    def drain(self) -> None:
        """Commit what is left from this thread (the loop stopped: app shutdown)."""
        if self.entries:
            entries, futures = self.entries, self.futures
            self.entries, self.futures = [], []
            failure = self.writer.commit_blocking(entries)
            if not self.loop.is_closed():
                _settle_all(futures, failure)


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
        self._commit_lock = threading.Lock()  # one commit at a time in this process
        self._lock_fd: int | None = None
        self._usage_due = time.monotonic() + USAGE_INTERVAL
        self.batches = 0
        self.records = 0
        self.lock_wait = 0.0  # seconds waiting for other writers
        self.commit_time = 0.0  # seconds in audited transactions

    # ------------------------------------------------------------------ callers

    async def write(
        self, action: str, target_type: str, target_id: str | None, detail: dict[str, Any]
    ) -> None:
        """Add a record and return once it is committed (raises 503 if it could not be)."""
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
        """The same from a worker thread (through the writer thread)."""
        event = threading.Event()
        failure: list[BaseException] = []

        def done(exc: BaseException | None) -> None:
            if exc is not None:
                failure.append(exc)
            event.set()

        self._ensure_thread()
        self._queue.put(Job([Entry(action, target_type, target_id, detail)], done))
        event.wait()
        if failure:
            raise audit_unavailable() from failure[0]

    def touch(self, key_id: str, at: datetime | None = None) -> None:
        """Remember a use of a code (written within USAGE_INTERVAL seconds)."""
        at = at or utcnow()
        with self._usage_lock:
            _last, count = self._usage.get(key_id, (at, 0))
            self._usage[key_id] = (at, count + 1)
        self._ensure_thread()  # it writes the usage every USAGE_INTERVAL

    def close(self, timeout: float = 10.0) -> None:
        """Commit what is waiting, write the usage, stop the thread."""
        for batch in list(self._loops.values()):
            if batch.loop.is_closed() or not batch.loop.is_running():
                batch.drain()
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(timeout)
        self._thread = None
        self.flush_usage()

    def stats(self) -> dict[str, float]:
        """Counters of this process's writer (for benchmarks)."""
        n = max(1, self.batches)
        return {
            "batches": self.batches,
            "records": self.records,
            "records_per_batch": self.records / n,
            "lock_wait_ms_per_batch": self.lock_wait / n * 1000,
            "commit_ms_per_batch": self.commit_time / n * 1000,
        }

    # ------------------------------------------------------------------ commits

    def _lock_path(self) -> str:
        path = self.db.engine.url.database if self.db.is_sqlite else None
        if path and path != ":memory:":
            return f"{path}.exchange-lock"
        digest = hashlib.sha256(str(self.db.engine.url).encode()).hexdigest()[:16]
        return os.path.join(tempfile.gettempdir(), f"cityos-exchange-{digest}.lock")

    def _fd(self) -> int:
        if self._lock_fd is None:
            self._lock_fd = os.open(self._lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
        return self._lock_fd

    def _try_lock(self) -> bool:
        if not self._commit_lock.acquire(blocking=False):
            return False
        try:
            fcntl.flock(self._fd(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._commit_lock.release()
            return False
        return True

    def _lock(self) -> None:
        self._commit_lock.acquire()
        try:
            fcntl.flock(self._fd(), fcntl.LOCK_EX)
        except BaseException:
            self._commit_lock.release()
            raise

    def _unlock(self) -> None:
        try:
            fcntl.flock(self._fd(), fcntl.LOCK_UN)
        finally:
            self._commit_lock.release()

    async def commit_here(self, entries: list[Entry]) -> BaseException | None:
        """Commit in the calling loop's thread; wait for the lock in a worker thread if needed."""
        started = time.perf_counter()
        try:
            if not self._try_lock():
                await asyncio.get_running_loop().run_in_executor(None, self._lock)
        except Exception as exc:
            log.exception("could not take the exchange audit lock")
            return exc
        return self._append_locked(entries, started)

    def commit_blocking(self, entries: list[Entry]) -> BaseException | None:
        started = time.perf_counter()
        try:
            self._lock()
        except Exception as exc:
            return exc
        return self._append_locked(entries, started)

    def _append_locked(self, entries: list[Entry], started: float) -> BaseException | None:
        locked = time.perf_counter()
        try:
            with self.db.session() as session:
                for entry in entries:
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
            log.exception("could not commit %d exchange audit records", len(entries))
            return exc
        finally:
            self._unlock()
            self.lock_wait += locked - started
            self.commit_time += time.perf_counter() - locked
        self.batches += 1
        self.records += len(entries)
        return None

    # ------------------------------------------------------------------ the thread

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="cityos-exchange-audit", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            wait = max(0.0, self._usage_due - time.monotonic())
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                item = None
            if isinstance(item, Job):
                item.done(self.commit_blocking(item.entries))
            if item is _STOP or time.monotonic() >= self._usage_due:
                self.flush_usage()
                self._usage_due = time.monotonic() + USAGE_INTERVAL
            if item is _STOP:
                return

    def flush_usage(self) -> None:
        with self._usage_lock:
            usage, self._usage = self._usage, {}
        if not usage:
            return
        table = cast(Table, AuthorizationCode.__table__)
        at = bindparam("at", type_=table.c.last_used_at.type)
        stmt = (
            update(table)
            .where(table.c.key_id == bindparam("k"))
            .values(
                last_used_at=case(
                    (table.c.last_used_at.is_(None), at),
                    (table.c.last_used_at < at, at),
                    else_=table.c.last_used_at,
                ),
                use_count=table.c.use_count + bindparam("n"),
            )
        )
        rows = [{"k": k, "at": when, "n": n} for k, (when, n) in sorted(usage.items())]
        try:
            with self.db.engine.begin() as conn:
                conn.execute(stmt, rows)
        except Exception:
            log.exception("could not write the last use of %d codes", len(rows))
            with self._usage_lock:  # try again next time
                for k, (when, n) in usage.items():
                    last, more = self._usage.get(k, (when, 0))
                    self._usage[k] = (max(last, when), more + n)


def _settle_all(futures: list[asyncio.Future[None]], exc: BaseException | None) -> None:
    for future in futures:
        if future.done():
            continue
        if exc is None:
            future.set_result(None)
        else:
            future.set_exception(exc)
