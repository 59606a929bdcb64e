"""What grading and encryption at rest cost the datastore, on the load bench's CSV.

    .venv/bin/python -m bench.encryption [--rows 100000] [--backend sqlite|postgresql|both]
                                         [--repeats 3]

For each backend, on one instance, the bench's generated CSV (10 columns) is loaded into fresh
resources, alternating:

- **plain**: as the load bench does (the classification scan of a 2,000-row sample included);
- **no scan**: the same load with the sampling and the scan switched off (what the load cost
  before grading on upload existed);
- **encrypted**: the ``name`` column (姓名) declared sensitive personal information, so it is
  stored SM4-GCM encrypted with an HMAC-SM3 blind index.

Then, on a plain and an encrypted table: equality filter on ``name`` (p50 of 50 different names,
after warm-up and once the query-driven index exists), a page of 100 records (p50 of 50
offsets), and a full CSV export. Prints a markdown table (median of ``repeats`` loads).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench import city
from bench.common import log, pg_available, pg_drop_created
from bench.csvgen import generate
from bench.load import make_resource
from cityos.catalog.models import ResourceItem
from cityos.datastore import services as datastore
from cityos.datastore.indexer import indexer_for


def encrypted_resource(inst: city.Instance) -> str:
    rid = make_resource(inst)
    with inst.db.session() as session:
        item = session.query(ResourceItem).filter_by(resource_id=rid, field="name").one()
        item.sensitivity = "sensitive_personal"
    return rid


@contextmanager
def no_scan() -> Iterator[None]:
    """The load without the grading sample and scan."""

    class Idle:
        fields: list[str] = []
        rows: list[Any] = []

        def offer(self, chunk: Any) -> None:
            return None

    saved_sampler, saved_scan = datastore.Sampler, datastore._scan_sample
    datastore.Sampler = Idle  # type: ignore[misc,assignment]
    datastore._scan_sample = lambda *args, **kwargs: None
    try:
        yield
    finally:
        datastore.Sampler = saved_sampler  # type: ignore[misc]
        datastore._scan_sample = saved_scan


def load(inst: city.Instance, rid: str, rows: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one load."""
    csv = generate(rows)
    start, cpu = time.perf_counter(), time.process_time()
    with csv.open("rb") as stream:
        batch = datastore.load_file(
            inst.db, rid, stream, filename=csv.name, actor=inst.officer, mode="append"
        )
    seconds, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    assert batch.rows_accepted == rows, batch.status
    return seconds, cpu_s


def p50_ms(fn: Callable[[Any], object], args: list[Any]) -> float:
    samples = []
    for arg in args:
        start = time.perf_counter()
        fn(arg)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def query_figures(inst: city.Instance, rid: str, names: list[str], rows: int) -> dict[str, float]:
    db = inst.db
    datastore.query(db, rid, filters={"name": names[0]}, limit=20)  # warm-up, schedules index
    indexer_for(db).wait()
    city.analyze(inst)
    rng = random.Random(7)
    offsets = [rng.randrange(max(1, rows - 100)) for _ in range(50)]
    export_start = time.perf_counter()
    _media, _name, chunks = datastore.export(db, rid, "csv")
    size = sum(len(c) for c in chunks)
    export_s = time.perf_counter() - export_start
    assert size > rows * 20
    return {
        "eq": p50_ms(lambda n: datastore.query(db, rid, filters={"name": n}, limit=20), names),
        "page": p50_ms(lambda o: datastore.query(db, rid, limit=100, offset=o), offsets),
        "export": export_s,
    }


def run(backend: str, rows: int, repeats: int) -> list[str]:
    inst = city.create(backend, f"encryption-{backend}")
    generate(rows)
    timings: dict[str, list[float]] = {"plain": [], "no scan": [], "encrypted": []}
    cpu: dict[str, list[float]] = {"plain": [], "no scan": [], "encrypted": []}
    last: dict[str, str] = {}
    for n in range(repeats):
        log(f"{backend}: round {n + 1}/{repeats}")
        for kind in ("plain", "no scan", "encrypted"):
            rid = encrypted_resource(inst) if kind == "encrypted" else make_resource(inst)
            if kind == "no scan":
                with no_scan():
                    wall, cpu_s = load(inst, rid, rows)
            else:
                wall, cpu_s = load(inst, rid, rows)
            timings[kind].append(wall)
            cpu[kind].append(cpu_s)
            last[kind] = rid
    city.analyze(inst)
    sample = datastore.query(inst.db, last["plain"], limit=50, fields=["name"]).records
    names = [r["name"] for r in sample]
    plain_q = query_figures(inst, last["plain"], names, rows)
    enc_q = query_figures(inst, last["encrypted"], names, rows)
    med = {k: statistics.median(v) for k, v in timings.items()}
    cpu_med = {k: statistics.median(v) for k, v in cpu.items()}
    out = [
        f"| load {rows:,} rows, wall | {backend} | {rows / med['no scan']:,.0f} rows/s | "
        f"{rows / med['plain']:,.0f} rows/s | {rows / med['encrypted']:,.0f} rows/s | "
        f"scan {med['plain'] / med['no scan'] - 1:+.1%}; encryption "
        f"{med['encrypted'] / med['plain'] - 1:+.1%} |",
        f"| load {rows:,} rows, CPU s of the process | {backend} | {cpu_med['no scan']:.2f} s | "
        f"{cpu_med['plain']:.2f} s | {cpu_med['encrypted']:.2f} s | "
        f"scan {cpu_med['plain'] / cpu_med['no scan'] - 1:+.1%}; encryption "
        f"{cpu_med['encrypted'] / cpu_med['plain'] - 1:+.1%} |",
        f"| equality on `name`, p50 | {backend} | — | {plain_q['eq']:.2f} ms | "
        f"{enc_q['eq']:.2f} ms | {enc_q['eq'] / plain_q['eq']:.2f}× |",
        f"| page of 100 records, p50 | {backend} | — | {plain_q['page']:.2f} ms | "
        f"{enc_q['page']:.2f} ms | {enc_q['page'] / plain_q['page']:.2f}× |",
        f"| CSV export, {rows:,} rows | {backend} | — | {plain_q['export']:.2f} s | "
        f"{enc_q['export']:.2f} s | {enc_q['export'] / plain_q['export']:.2f}× |",
    ]
    log(f"{backend}: loads (wall s) {timings}; (CPU s) {cpu}")
    inst.db.dispose()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.encryption", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backend", default="both", choices=("sqlite", "postgresql", "both"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    lines = [
        "| benchmark | backend | no scan | plain (with scan) | one encrypted column | change |",
        "|---|---|---|---|---|---|",
    ]
    try:
        for backend in backends:
            if backend == "postgresql" and not pg_available():
                log("PostgreSQL not available: skipped")
                continue
            lines += run(backend, args.rows, args.repeats)
    finally:
        pg_drop_created()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
