"""Query-driven indexes: a large table gets an index on a column once queries filter or sort on it.

Declaring every column indexed would make bulk loads several times slower; most columns are
never queried. So the first query that filters or sorts a table of at least
``AUTO_INDEX_MIN_ROWS`` rows on an unindexed column schedules ``CREATE INDEX`` for it on a
background thread (under the resource's write lock, so loads and index builds never interleave),
followed by ``ANALYZE``. That query runs as it would have; later ones use the index.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import weakref
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

from cityos.core.db import Database
from cityos.datastore.tables import quote, table_name, write_lock

log = logging.getLogger(__name__)

AUTO_INDEX_MIN_ROWS = 50_000
_INDEXERS: weakref.WeakKeyDictionary[Database, AutoIndexer] = weakref.WeakKeyDictionary()


def index_name(table: str, column: str) -> str:
    """Short and stable (PostgreSQL allows 63 characters)."""
    return f"{table}_a{hashlib.sha1(column.encode()).hexdigest()[:10]}"


def fields_used(filters: dict[str, object] | None, sort: str | None) -> list[str]:
    """Field names a query filters on (``amount__gte`` → amount) and its first sort field."""
    names = [key.split("__", 1)[0] for key in (filters or {})]
    first = (sort or "").split(",", 1)[0].strip()
    if first:
        names.append(first.lstrip("-").split()[0])
    return list(dict.fromkeys(names))


class AutoIndexer:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cityos-index")
        self._futures: list[Future[None]] = []

    def note(self, resource_id: str, columns: Iterable[str], row_count: int) -> None:
        if row_count < AUTO_INDEX_MIN_ROWS:
            return
        with self._lock:
            fresh = [c for c in columns if (resource_id, c) not in self._seen]
            self._seen.update((resource_id, c) for c in fresh)
            if fresh:
                self._futures.append(self._pool.submit(self._build, resource_id, fresh))

    def wait(self) -> None:
        """Block until scheduled builds are done (for tests and benchmarks)."""
        with self._lock:
            futures, self._futures = self._futures, []
        for future in futures:
            future.result()

    def _build(self, resource_id: str, columns: list[str]) -> None:
        table = table_name(resource_id)
        try:
            with write_lock(self.db, resource_id) as (conn, _session):
                for column in columns:
                    conn.exec_driver_sql(
                        f"CREATE INDEX IF NOT EXISTS {quote(conn, index_name(table, column))} "
                        f"ON {quote(conn, table)} ({quote(conn, column)})"
                    )
                conn.exec_driver_sql(f"ANALYZE {quote(conn, table)}")
            log.info("indexed %s on %s", table, ", ".join(columns))
        except Exception:  # an index is an optimisation: never fail a reader for it
            log.exception("could not index %s on %s", table, columns)
            with self._lock:
                self._seen.difference_update((resource_id, c) for c in columns)


def indexer_for(db: Database) -> AutoIndexer:
    with _GLOBAL_LOCK:
        indexer = _INDEXERS.get(db)
        if indexer is None:
            indexer = _INDEXERS[db] = AutoIndexer(db)
        return indexer


_GLOBAL_LOCK = threading.Lock()
