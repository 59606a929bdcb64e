"""A per-process cache of search answers, valid for one generation of the catalogue.

Every catalogue write bumps ``catalog_state.generation`` in its own transaction (``bump``);
a search reads the generation (one primary-key look-up) and reuses an answer computed for the
same generation, caller visibility, words, filters, sort and page. So a cached answer is never
stale, in this process or after another process's write, and the facet GROUP BYs run once per
distinct question and change of the catalogue rather than once per request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityos.catalog.models import CatalogState

SIZE = 256
ENABLED = True  # benchmarks of the search engine itself set this to False
_DIRTY = "cityos_catalog_written"
# catalogue generations at which PostgreSQL statistics are refreshed (then every ANALYZE_EVERY)
ANALYZE_AT = frozenset({50, 500, 2000})
ANALYZE_EVERY = 5000
ANALYZED_TABLES = (
    "catalog_resources",
    "catalog_resource_tags",
    "catalog_search_terms",
    "catalog_items",
)


class AnswerCache:
    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._data: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...]) -> Any:
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_caches: WeakKeyDictionary[Any, AnswerCache] = WeakKeyDictionary()
_caches_lock = threading.Lock()


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_DIRTY, None)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_DIRTY, None)


def usable(session: Session) -> bool:
    """False in a transaction that changed the catalogue: its answers may yet be rolled back."""
    return ENABLED and not session.info.get(_DIRTY)


def cache_for(session: Session) -> AnswerCache:
    """The cache of the engine (database) this session talks to."""
    engine = session.get_bind()
    with _caches_lock:
        cache = _caches.get(engine)
        if cache is None:
            cache = _caches[engine] = AnswerCache()
        return cache


def generation(session: Session) -> int:
    return int(session.scalar(select(CatalogState.generation).where(CatalogState.id == 1)) or 0)


def bump(session: Session) -> None:
    """Mark the catalogue changed (in the caller's transaction)."""
    session.info[_DIRTY] = True
    result = session.execute(
        update(CatalogState)
        .where(CatalogState.id == 1)
        .values(generation=CatalogState.generation + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 1) == 0:
        try:
            with session.begin_nested():
                session.add(CatalogState(id=1, generation=1))
        except IntegrityError:  # created meanwhile by another writer
            bump(session)
        return
    reached = generation(session)
    if reached in ANALYZE_AT or reached % ANALYZE_EVERY == 0:
        refresh_statistics(session)


def refresh_statistics(session: Session) -> None:
    """Give PostgreSQL's planner statistics of the catalogue tables.

    Without them (a bulk load, a server without autovacuum) it guesses a handful of rows and
    joins keyword tags through nested loops; the catalogue asks for them as it grows. SQLite's
    queries are shaped for its planner without statistics, so nothing is done there.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE " + ", ".join(ANALYZED_TABLES)))
