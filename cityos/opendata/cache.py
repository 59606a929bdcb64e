"""Per-process caches of the open data API.

- ``answers``: the serialized JSON bytes of a records answer per (resource id, data version of
  this process, normalised query), in a bounded LRU with a TTL (``CITYOS_OPEN_CACHE_SECONDS``,
  default 30 s; 0 disables the cache);
- ``datasets``: what the API needs to know of a dataset (id, code, name, open type) by code or
  id, with the same TTL.

A load of records (``datastore.loaded``) or a catalogue change (``catalog.resource.changed``)
published in this process bumps the resource's version and drops its dataset entry at once;
another worker process sees the change within the TTL. The cache holds answers only: the
access checks (key, scope, quotas) run on every call before an answer is taken from it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI

from cityos.core.bus import Event

CATALOG_TOPIC = "catalog.resource.changed"
DATASTORE_TOPIC = "datastore.loaded"


@dataclass(frozen=True)
class Answer:
    body: bytes
    etag: str


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


class TTLCache:
    """A thread-safe LRU whose entries expire ``ttl`` seconds after they were stored."""

    def __init__(self, size: int, ttl: float) -> None:
        self.size = max(0, size)
        self.ttl = ttl
        self._data: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.size > 0 and self.ttl > 0

    def get(self, key: Any) -> Any:
        if not self.enabled:
            return None
        with self._lock:
            found = self._data.get(key)
            if found is None:
                return None
            if found[0] <= time.monotonic():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return found[1]

    def put(self, key: Any, value: Any) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._data[key] = (time.monotonic() + self.ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def drop_where(self, test: Any) -> None:
        with self._lock:
            for key in [k for k in self._data if test(k)]:
                del self._data[key]

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


class OpenCache:
    def __init__(self, size: int, ttl: float) -> None:
        self.answers = TTLCache(size, ttl)
        self.datasets = TTLCache(1000, ttl)
        self._versions: dict[str, int] = {}

    def version(self, resource_id: str) -> int:
        return self._versions.get(resource_id, 0)

    def changed(self, resource_id: str) -> None:
        """The resource's data or metadata changed: its cached answers are no longer used."""
        self._versions[resource_id] = self.version(resource_id) + 1
        self.answers.drop_where(lambda key: key[0] == resource_id)
        self.datasets.clear()  # entries are few and are keyed by code as well as by id

    def answer_key(self, resource_id: str, params: list[tuple[str, str]]) -> tuple[Any, ...]:
        return (resource_id, self.version(resource_id), normalised(params))


def normalised(params: list[tuple[str, str]]) -> str:
    """The query in a canonical order (repeated parameters keep their relative order)."""
    return urlencode(sorted(params, key=lambda kv: kv[0]))


_lock = threading.Lock()


def open_cache(app: FastAPI) -> OpenCache:
    found: OpenCache | None = getattr(app.state, "open_cache", None)
    if found is None:
        with _lock:
            found = getattr(app.state, "open_cache", None)
            if found is None:
                settings = app.state.settings
                found = OpenCache(settings.open_cache_entries, settings.open_cache_seconds)
                app.state.open_cache = found
    return found


def install(app: FastAPI) -> None:
    """Listen to the loads and the catalogue changes of this process."""

    def on_change(event: Event) -> None:
        resource_id = str(event.payload.get("resource_id") or "")
        if resource_id:
            open_cache(app).changed(resource_id)

    app.state.bus.subscribe(CATALOG_TOPIC, on_change)
    app.state.bus.subscribe(DATASTORE_TOPIC, on_change)
