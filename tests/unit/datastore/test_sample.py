"""The load's sample: k rows, drawn across the whole stream, kept as text."""

from __future__ import annotations

from statistics import mean

from cityos.datastore.sample import Sampler


def test_small_loads_are_kept_whole() -> None:
    sampler = Sampler(k=10, seed=1)
    sampler.offer([(1, "张三", None), (2, "李\x1f四", 3.5)])
    assert sampler.rows == [["1", "张三", ""], ["2", "李 四", "3.5"]]
    assert sampler.seen == 2


def test_large_loads_are_sampled_uniformly() -> None:
    sampler = Sampler(k=500, seed=20241125)
    n, chunk = 200_000, 10_000
    for start in range(0, n, chunk):
        sampler.offer([(i,) for i in range(start, start + chunk)])
    picked = [int(r[0]) for r in sampler.rows]
    assert len(picked) == 500 == len(set(picked))
    # uniform over [0, n): mean near n/2, every fifth of the stream represented
    assert abs(mean(picked) - n / 2) < n * 0.05
    fifths = [sum(1 for p in picked if q * n // 5 <= p < (q + 1) * n // 5) for q in range(5)]
    assert all(60 < f < 140 for f in fifths), fifths
