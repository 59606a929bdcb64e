"""A uniform sample of the rows of a load, taken as its chunks go by (reservoir, Algorithm L).

The classification scan after a load reads this sample instead of the table: ``k`` rows,
each accepted row equally likely, whatever the size of the load. Algorithm L (Li, 1994) draws
the gap to the next kept row, so the cost is O(k log(n/k)) random numbers for n rows, not one
per row; the hot loop of the load only hands over whole chunks.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

SAMPLE_ROWS = 2_000


class Sampler:
    def __init__(self, k: int = SAMPLE_ROWS, seed: int | None = None) -> None:
        if k < 1:
            raise ValueError("a sample has at least one row")
        self.k = k
        self.fields: list[str] = []  # the columns of the rows (set by the load)
        self.rows: list[Sequence[Any]] = []
        self.seen = 0
        self._rng = random.Random(seed)
        self._w = 1.0
        self._next: int | None = None  # stream index of the next row to keep

    def _u(self) -> float:
        return 1.0 - self._rng.random()  # (0, 1]

    def _advance(self, start: int) -> None:
        self._w *= math.exp(math.log(self._u()) / self.k)
        w = min(self._w, 1.0 - 1e-16)
        self._next = start + math.floor(math.log(self._u()) / math.log(1.0 - w)) + 1

    def offer(self, chunk: Sequence[Sequence[Any]]) -> None:
        """The next rows of the stream, in order."""
        start = self.seen
        n = len(chunk)
        taken = 0
        if len(self.rows) < self.k:
            taken = min(self.k - len(self.rows), n)
            self.rows.extend(chunk[:taken])
            if len(self.rows) == self.k:
                self._advance(start + taken - 1)
        while self._next is not None and self._next < start + n:
            self.rows[self._rng.randrange(self.k)] = chunk[self._next - start]
            self._advance(self._next)
        self.seen += n
