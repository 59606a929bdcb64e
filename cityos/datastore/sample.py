"""A uniform sample of the rows of a load, taken as its chunks go by (reservoir, Algorithm L).

The classification scan after a load reads this sample instead of the table: ``k`` rows,
each accepted row equally likely, whatever the size of the load. Algorithm L (Li, 1994) draws
the gap to the next kept row, so the cost is O(k log(n/k)) random numbers for n rows, not one
per row; the hot loop of the load only hands over whole chunks.

Kept rows are copied as text into one growing buffer instead of being referenced: a few
thousand row objects kept alive across the load's chunks pin the interpreter's small-object
memory pools and made the rest of a 100,000-row load ~10 % slower (measured); the scan reads
text anyway.
"""

from __future__ import annotations

import math
import random
from array import array
from collections.abc import Sequence
from typing import Any

SAMPLE_ROWS = 2_000
_CELL = "\x1f"  # unit separator between the cells of a kept row


def _text(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return text.replace(_CELL, " ") if _CELL in text else text


class Sampler:
    def __init__(self, k: int = SAMPLE_ROWS, seed: int | None = None) -> None:
        if k < 1:
            raise ValueError("a sample has at least one row")
        self.k = k
        self.fields: list[str] = []  # the columns of the rows (set by the load)
        self.seen = 0
        self._buf = bytearray()
        self._start = array("q")  # slot → offset of its row in the buffer
        self._end = array("q")
        self._rng = random.Random(seed)
        self._w = 1.0
        self._next: int | None = None  # stream index of the next row to keep

    def __len__(self) -> int:
        return len(self._start)

    @property
    def rows(self) -> list[list[str]]:
        """The kept rows, their cells as text ("" for no value)."""
        buf = self._buf
        return [
            buf[s:e].decode("utf-8").split(_CELL)
            for s, e in zip(self._start, self._end, strict=True)
        ]

    def _u(self) -> float:
        return 1.0 - self._rng.random()  # (0, 1]

    def _advance(self, start: int) -> None:
        self._w *= math.exp(math.log(self._u()) / self.k)
        w = min(self._w, 1.0 - 1e-16)
        self._next = start + math.floor(math.log(self._u()) / math.log(1.0 - w)) + 1

    def _keep(self, row: Sequence[Any]) -> tuple[int, int]:
        start = len(self._buf)
        self._buf += _CELL.join([_text(v) for v in row]).encode("utf-8")
        return start, len(self._buf)

    def offer(self, chunk: Sequence[Sequence[Any]]) -> None:
        """The next rows of the stream, in order."""
        start = self.seen
        n = len(chunk)
        if len(self._start) < self.k:
            taken = min(self.k - len(self._start), n)
            for row in chunk[:taken]:
                s, e = self._keep(row)
                self._start.append(s)
                self._end.append(e)
            if len(self._start) == self.k:
                self._advance(start + taken - 1)
        while self._next is not None and self._next < start + n:
            slot = self._rng.randrange(self.k)
            self._start[slot], self._end[slot] = self._keep(chunk[self._next - start])
            self._advance(self._next)
        self.seen += n
