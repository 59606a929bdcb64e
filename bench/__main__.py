"""`python -m bench [load|query|search|audit|pii|all] [--rows N] [--backend ...] [--quick]`.

Prints the results table and records the run in docs/benchmarks.md (unless --no-record).
"""

from __future__ import annotations

import argparse
import signal
import sys
import traceback
from collections.abc import Callable

from bench import report
from bench.common import Result, log, pg_available, pg_drop_created


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument(
        "suite",
        nargs="?",
        default="all",
        choices=("load", "query", "search", "audit", "pii", "all"),
    )
    p.add_argument("--rows", type=int, help="CSV rows (default 1,000,000; --quick 100,000)")
    p.add_argument("--resources", type=int, help="catalogue size (default 10,000; --quick 1,000)")
    p.add_argument("--records", type=int, help="audit records (default 1,000,000; --quick 100,000)")
    p.add_argument("--backend", default="both", choices=("sqlite", "postgresql", "both"))
    p.add_argument("--quick", action="store_true", help="smaller data, fewer requests")
    p.add_argument("--no-record", action="store_true", help="do not write docs/benchmarks.md")
    return p.parse_args(argv)


def command_line(args: argparse.Namespace) -> str:
    parts = ["python -m bench", args.suite]
    if args.suite in ("load", "query", "all"):
        parts.append(f"--rows {args.rows}")
    if args.suite != "pii":
        parts.append(f"--backend {args.backend}")
    if args.suite in ("search", "all"):
        parts.append(f"--resources {args.resources}")
    if args.suite in ("audit", "all"):
        parts.append(f"--records {args.records}")
    return " ".join(parts + (["--quick"] if args.quick else []))


def run_backend(
    args: argparse.Namespace, backend: str, extra: dict[str, str], notes: list[str]
) -> list[Result]:
    """The chosen suites on one backend; a suite that fails is noted and the others go on."""
    from bench import load

    results: list[Result] = []
    loaded: list[load.Loaded] = []

    def attempt(suite: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:
            traceback.print_exc()
            notes.append(f"{suite} on {backend} failed: {type(exc).__name__}: {exc}"[:300])

    def do_load() -> None:
        found, data = load.run(backend, args.rows)
        results.extend(found)
        loaded.append(data)

    def do_query() -> None:
        from bench import query

        if not loaded:
            log(f"preparing the {args.rows:,}-row table ({backend}; not timed)")
            loaded.append(load.dataset(backend, args.rows))
        found, versions = query.run(loaded[0], requests=100 if args.quick else 300)
        results.extend(found)
        extra.update(versions)

    def do_search() -> None:
        from bench import search

        results.extend(search.run(backend, args.resources, repeats=4 if args.quick else 12))

    if args.suite in ("load", "all"):
        attempt("load", do_load)
    if args.suite in ("query", "all"):
        attempt("query", do_query)
    for data in loaded:
        data.inst.db.dispose()
    if args.suite in ("search", "all"):
        attempt("search", do_search)
    if args.suite in ("audit", "all"):
        from bench import audit_verify

        attempt("audit", lambda: results.extend(audit_verify.run(backend, args.records)))
    return results


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["exchange"]:  # authorization-code exchange throughput (its own runner)
        from bench import bench_exchange

        return bench_exchange.main(argv[1:])
    if argv[:1] == ["open"]:  # open data page, records API and CSV download (its own runner)
        from bench import bench_open

        return bench_open.main(argv[1:])
    args = parse(argv)
    args.rows = args.rows or (100_000 if args.quick else 1_000_000)
    args.resources = args.resources or (1_000 if args.quick else 10_000)
    args.records = args.records or (100_000 if args.quick else 1_000_000)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results: list[Result] = []
    notes: list[str] = []
    extra: dict[str, str] = {}
    sha = report.commit()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still drop the PG databases
    try:
        if args.suite in ("pii", "all"):  # no database: once, whatever the backend
            from bench import pii_scan

            results += pii_scan.run(repeat=2 if args.quick else 3)
        for backend in backends:
            if backend == "postgresql" and not pg_available():
                notes.append("PostgreSQL unreachable: its benchmarks were skipped.")
                log(notes[-1])
                continue
            results += run_backend(args, backend, extra, notes)
    finally:
        pg_drop_created()
    print(report.text_table(results))
    for note in notes:
        print(f"- {note}")
    if not args.no_record:
        report.record(results, command_line(args), extra, notes, sha)
        log(f"recorded in {report.DOC.relative_to(report.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
