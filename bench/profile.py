"""Where the time goes: `python -m bench.profile load|query|search|create [--backend B] [--rows N]`.

Runs our side of one benchmark under cProfile (in process, no HTTP) and prints the top entries
by cumulative and by own time. Uses the cached SQLite instances in bench/.work when present.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import shutil
from typing import Any

from bench import city, load, query, search
from bench.common import WORK, pg_drop_created
from bench.csvgen import generate
from cityos.auth.principal import ANONYMOUS


def target(args: argparse.Namespace) -> Any:
    if args.what == "load":
        inst = city.create(args.backend, f"profile-{args.backend}")
        resource_id = load.make_resource(inst)
        csv = generate(args.rows)
        return lambda: load.ours(inst, resource_id, csv)
    if args.what == "query":
        loaded = load.dataset(args.backend, args.rows)
        main = query.QUERIES[0]
        service = query.service_call(loaded)
        return lambda: [service(main) for _ in range(20)]
    inst, _rate = search.instance(args.backend, args.resources)
    if args.what == "create":  # more resources on top of a copy of the catalogue
        copy = WORK / "profile-create"
        shutil.rmtree(copy, ignore_errors=True)
        inst.db.dispose()
        if args.backend == "sqlite":
            shutil.copytree(inst.data_dir, copy)
            inst = city.attach("sqlite", copy, f"sqlite:///{copy / 'cityos.db'}")
        return lambda: search.populate(inst, args.more, seed=7)
    who = {"anonymous": ANONYMOUS, "department": inst.officer}

    def searches() -> None:
        rng = random.Random(1)
        for _ in range(60):
            _kind, q, filters = rng.choice(search.QUERIES)
            search.ours(inst, who[rng.choice(list(who))], q, filters)

    return searches


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    p.add_argument("what", choices=("load", "query", "search", "create"))
    p.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql"))
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--resources", type=int, default=10_000, help="catalogue size")
    p.add_argument("--more", type=int, default=300, help="create: resources added to it")
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args()
    try:
        fn = target(args)
        if args.what in ("query", "search"):
            fn()  # warm-up: jieba, caches, query plans
        profiler = cProfile.Profile()
        profiler.runcall(fn)
        out = WORK / f"profile-{args.what}-{args.backend}.pstats"
        profiler.dump_stats(out)
        for order in ("cumulative", "tottime"):
            pstats.Stats(str(out)).strip_dirs().sort_stats(order).print_stats(args.top)
    finally:
        pg_drop_created()


if __name__ == "__main__":
    main()
