"""Daily call counts of API keys kept in the database (without Redis).

Each process counts its calls in memory and adds them to ``opendata_key_days`` every few
seconds (and at shutdown); it re-reads a key's stored total at most every ``REFRESH`` seconds
(and right after its own flush). The count a call sees is the stored total plus this process's
calls not yet written: every process and a restarted one see the calls of the others, late by
at most the flush interval plus ``REFRESH``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.db import Database, insert_or_add
from cityos.opendata.models import OpenKeyDay

REFRESH = 2.0


@dataclass
class _Stored:
    calls: int
    read_at: float


class StoredDayCounter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._day = ""
        self._stored: dict[str, _Stored] = {}
        self._pending: dict[str, int] = {}
        self._lock = threading.Lock()

    def _roll(self, day: str) -> None:
        if day != self._day:  # a new day: yesterday's pending calls are flushed by their day
            self._day, self._stored = day, {}

    def needs_read(self, key_id: str, day: str) -> bool:
        with self._lock:
            self._roll(day)
            found = self._stored.get(key_id)
            return found is None or time.monotonic() - found.read_at > REFRESH

    def read(self, key_id: str, day: str) -> None:
        """Refresh the stored total of the key (a database read: call it off the event loop)."""
        with self.db.session() as session:
            calls = session.scalar(
                select(OpenKeyDay.calls).where(
                    OpenKeyDay.key_id == key_id, OpenKeyDay.day == date.fromisoformat(day)
                )
            )
        with self._lock:
            if day == self._day:
                self._stored[key_id] = _Stored(int(calls or 0), time.monotonic())

    def incr(self, key_id: str, day: str) -> int:
        """Count a call; the calls of the key today, this one included."""
        with self._lock:
            self._roll(day)
            joined = _join((day, key_id))
            self._pending[joined] = self._pending.get(joined, 0) + 1
            stored = self._stored.get(key_id)
            return (stored.calls if stored else 0) + self._pending[joined]

    def peek(self, key_id: str, day: str) -> int:
        with self._lock:
            stored = self._stored.get(key_id) if day == self._day else None
            return (stored.calls if stored else 0) + self._pending.get(_join((day, key_id)), 0)

    def flush(self) -> int:
        """Add the pending calls to the stored counts; on failure they stay pending."""
        with self._lock:
            taken, self._pending = self._pending, {}
        if not taken:
            return 0
        try:
            with self.db.session() as session:
                for joined, calls in taken.items():
                    day, key_id = _split(joined)
                    _add(session, key_id, date.fromisoformat(day), calls)
        except Exception:
            with self._lock:
                for joined, calls in taken.items():
                    self._pending[joined] = self._pending.get(joined, 0) + calls
            raise
        with self._lock:
            for joined in taken:
                day, key_id = _split(joined)
                stored = self._stored.get(key_id)
                if stored is not None and day == self._day:
                    stored.calls += taken[joined]  # now stored; re-read soon for the others'
                    stored.read_at = 0.0
        return sum(taken.values())


def _join(pair: tuple[str, str]) -> str:
    return pair[0] + "|" + pair[1]


def _split(joined: str) -> tuple[str, str]:
    day, key_id = joined.split("|", 1)
    return day, key_id


def _add(session: Session, key_id: str, day: date, calls: int) -> None:
    table: Any = OpenKeyDay.__table__
    insert_or_add(session, table, {"key_id": key_id, "day": day}, {"calls": calls})
