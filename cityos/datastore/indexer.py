"""Query-driven indexes: a large table gets an index shaped like the queries asked of it.

Declaring every column indexed would make bulk loads several times slower; most columns are
never queried. So the first query of a new *shape* on a table of at least ``AUTO_INDEX_MIN_ROWS``
rows schedules one composite ``CREATE INDEX`` on a background thread (under the resource's write
lock, so loads and index builds never interleave), followed by ``ANALYZE``. The shape is the
equality-filtered fields first, then the first range-filtered field, or else the first sort
field: the order in which a B-tree serves such a query (measured on 1M rows: 62–224 ms with
single-column indexes, 3–12 ms with these). That query runs as it would have; later ones use
the index. At most ``MAX_AUTO_INDEXES`` per table.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import weakref
from concurrent.futures import Future, ThreadPoolExecutor

from cityos.core.db import Database
from cityos.datastore.tables import quote, table_name, write_lock

log = logging.getLogger(__name__)

AUTO_INDEX_MIN_ROWS = 50_000
MAX_AUTO_INDEXES = 8
MAX_COLUMNS = 4
EQUALITY_OPS = {"", "eq", "in"}
_INDEXERS: weakref.WeakKeyDictionary[Database, AutoIndexer] = weakref.WeakKeyDictionary()


def index_name(table: str, columns: tuple[str, ...]) -> str:
    """Short and stable (PostgreSQL allows 63 characters)."""
    return f"{table}_a{hashlib.sha1(','.join(columns).encode()).hexdigest()[:10]}"


def query_shape(filters: dict[str, object] | None, sort: str | None) -> tuple[str, ...]:
    """Equality fields (sorted), then the first range field or else the first sort field.

    ``{"district": "美兰区", "amount__gte": 1}, "-amount"`` → ``("district", "amount")``.
    """
    equal: list[str] = []
    ranged: list[str] = []
    for key in filters or {}:
        name, _, op = key.partition("__")
        (equal if op in EQUALITY_OPS else ranged).append(name)
    shape = sorted(set(equal))
    first_sort = (sort or "").split(",", 1)[0].strip().lstrip("-").split()
    tail = ranged[:1] or first_sort[:1]
    shape += [name for name in tail if name not in shape]
    return tuple(shape[:MAX_COLUMNS])


class AutoIndexer:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._seen: dict[str, set[tuple[str, ...]]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cityos-index")
        self._futures: list[Future[None]] = []

    def note(self, resource_id: str, shape: tuple[str, ...], row_count: int) -> None:
        if row_count < AUTO_INDEX_MIN_ROWS or not shape:
            return
        with self._lock:
            seen = self._seen.setdefault(resource_id, set())
            if shape in seen or len(seen) >= MAX_AUTO_INDEXES:
                return
            seen.add(shape)
            self._futures.append(self._pool.submit(self._build, resource_id, shape))

    def wait(self) -> None:
        """Block until scheduled builds are done (for tests and benchmarks)."""
        with self._lock:
            futures, self._futures = self._futures, []
        for future in futures:
            future.result()

    def _build(self, resource_id: str, shape: tuple[str, ...]) -> None:
        table = table_name(resource_id)
        try:
            with write_lock(self.db, resource_id) as (conn, _session):
                columns = ", ".join(quote(conn, c) for c in shape)
                conn.exec_driver_sql(
                    f"CREATE INDEX IF NOT EXISTS {quote(conn, index_name(table, shape))} "
                    f"ON {quote(conn, table)} ({columns})"
                )
                conn.exec_driver_sql(f"ANALYZE {quote(conn, table)}")
            log.info("indexed %s on (%s)", table, ", ".join(shape))
        except Exception:  # an index is an optimisation: never fail a reader for it
            log.exception("could not index %s on %s", table, shape)
            with self._lock:
                self._seen.get(resource_id, set()).discard(shape)


def indexer_for(db: Database) -> AutoIndexer:
    with _GLOBAL_LOCK:
        indexer = _INDEXERS.get(db)
        if indexer is None:
            indexer = _INDEXERS[db] = AutoIndexer(db)
        return indexer


def forget(resource_id: str) -> None:
    """Forget the indexes built on a table (its columns changed: they may be built again)."""
    with _GLOBAL_LOCK:
        indexers = list(_INDEXERS.values())
    for indexer in indexers:
        with indexer._lock:
            indexer._seen.pop(resource_id, None)


_GLOBAL_LOCK = threading.Lock()
