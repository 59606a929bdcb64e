"""Deterministic, smooth pseudo-random fields of time (no state carried between readings).

``smooth(key, t, period)`` interpolates (cosine) between values drawn once per period from a
generator seeded by the key and the period index, so that a reading at any moment can be
computed on its own and the same key gives the same curve.
"""

from __future__ import annotations

import hashlib
import math
import random


def _knot(key: str, index: int) -> float:
    digest = hashlib.blake2b(f"{key}:{index}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big")).uniform(-1.0, 1.0)


def smooth(key: str, t_hours: float, period_h: float) -> float:
    """A value in [-1, 1] varying smoothly over roughly ``period_h`` hours."""
    position = t_hours / period_h
    index = math.floor(position)
    fraction = position - index
    weight = (1 - math.cos(math.pi * fraction)) / 2
    return _knot(key, index) * (1 - weight) + _knot(key, index + 1) * weight


def block_uniform(key: str, t_hours: float, block_h: float) -> tuple[float, float]:
    """(u in [0, 1) constant over the block, position 0–1 within the block)."""
    position = t_hours / block_h
    index = math.floor(position)
    return (_knot(key, index) + 1) / 2, position - index
