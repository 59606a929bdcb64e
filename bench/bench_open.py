"""`python bench/bench_open.py` (or `python -m bench open`): the open data portal and API.

What runs (SQLite, a fresh instance in bench/.work/open-sqlite):
1. the Haikou demo is loaded (the anonymous dataset page of 海口市空气质量监测数据), and an
   无条件开放 dataset of ``--rows`` (default 1,000,000) synthetic air-quality records;
2. ``cityos.asgi:app`` under uvicorn (2 workers, httptools, uvloop) in a subprocess; anonymous
   quotas raised for the run (CITYOS_OPEN_ANON_PER_MINUTE/PER_DAY);
3. (a) the anonymous dataset page, ``--page-requests`` sequential requests: p50/p95, baseline
   ``/healthz`` in the same run;
   (b) 50 concurrent keep-alive connections for ``--seconds`` per phase:
   ``GET /api/v1/open/datasets/{code}/records?district=美兰区&aqi__gte=100&limit=20``, cached;
   the same with the cache off (a second server with CITYOS_OPEN_CACHE_SECONDS=0); and the plain
   ``/api/v1/datastore/{id}/records`` route with the same query;
   (c) the whole dataset as CSV through ``/download.csv``: MB/s and the server workers' peak RSS
   (VmHWM) before and after; baseline: reading the same table with the sqlite3 module and
   writing CSV to /dev/null, in the same run.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import shutil
import sqlite3
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_exchange import Phase, request_bytes, run_phase, server_cpu
from bench.common import MAIN_BIN, ROOT, WORK, free_port, log, percentile, server

DISTRICTS = ("秀英区", "龙华区", "琼山区", "美兰区")
STATIONS = (
    "海口市监测站",
    "美兰站",
    "秀英站",
    "琼山站",
    "龙华站",
    "海甸岛站",
    "江东站",
    "西海岸站",
)
QUERY = {"district": "美兰区", "aqi__gte": "100", "limit": "20"}
TARGETS = {"page_p95_ms": 50.0, "records_rps": 2000.0, "csv_mb_s": 50.0}


def air_csv(rows: int) -> Path:
    path = WORK / f"open-air-{rows}.csv"
    if path.exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    rng = random.Random(4)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["station", "district", "aqi", "pm25", "day", "longitude", "latitude"])
        for n in range(rows):
            out.writerow(
                [
                    rng.choice(STATIONS),
                    rng.choice(DISTRICTS),
                    rng.randint(10, 300),
                    round(rng.uniform(3, 150), 1),
                    f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}",
                    round(110.2 + rng.random() * 0.4, 5),
                    round(19.9 + rng.random() * 0.2, 5),
                ]
            )
    return path


@dataclass
class Instance:
    data_dir: Path
    url: str
    env: dict[str, str]

    @property
    def sqlite_file(self) -> Path:
        return self.data_dir / "cityos.db"


def prepare(rows: int) -> tuple[Instance, str, str, str]:
    """(instance, bench dataset id, its code, the demo air-quality code)."""
    from cityos.auth import services as auth
    from cityos.catalog import services as catalog
    from cityos.catalog.models import Resource
    from cityos.catalog.schemas import ItemIn, ResourceIn
    from cityos.config import Settings
    from cityos.core.db import Database
    from cityos.core.migrate import upgrade
    from cityos.crypto.envelope import configure as configure_keyring
    from cityos.datastore import services as datastore
    from cityos.demo.loader import load_into

    data_dir = WORK / "open-sqlite"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    url = Settings(data_dir=data_dir).resolved_database_url
    upgrade(url)
    db = Database(url)
    configure_keyring(db.engine, Settings(data_dir=data_dir, database_url=url))
    log("loading the Haikou demo")
    load_into(db)
    items = [
        ("station", "监测站", "string"),
        ("district", "所属区", "string"),
        ("aqi", "空气质量指数", "integer"),
        ("pm25", "PM2.5浓度", "number"),
        ("day", "日期", "date"),
        ("longitude", "经度", "number"),
        ("latitude", "纬度", "number"),
    ]
    with db.session() as session:
        user = auth.get_user_by_name(session, "admin")
        assert user is not None
        admin = auth.principal_for(session, user)
        demo = session.query(Resource).filter(Resource.name == "海口市空气质量监测数据").one()
        demo_code, provider = demo.code, demo.provider_id
    data = ResourceIn(
        name="空气质量监测记录（基准测试）",
        class_code="201001",
        provider_id=provider,
        summary="基准测试用的生成数据。",
        share_type="unconditional",
        open_type="unconditional",
        update_cycle="daily",
        items=[ItemIn(field=f, name=n, data_type=t) for f, n, t in items],
    )
    with db.session() as session:
        res = catalog.create_resource(session, data, admin)
        for action in ("submit", "confirm", "publish"):
            catalog.transition(session, res.id, action, admin)
        rid, code = res.id, res.code
    path = air_csv(rows)
    log(f"loading {rows:,} records")
    started = time.perf_counter()
    with path.open("rb") as stream:
        batch = datastore.load_file(db, rid, stream, filename=path.name, actor=admin)
    log(f"  {batch.rows_accepted:,} rows in {time.perf_counter() - started:.1f} s")
    db.dispose()
    env = {"CITYOS_DATA_DIR": str(data_dir), "CITYOS_DATABASE_URL": url}
    return Instance(data_dir, url, env), rid, code, demo_code


def uvicorn(port: int, workers: int) -> list[str]:
    return [
        str(MAIN_BIN / "uvicorn"),
        "cityos.asgi:app",
        "--app-dir",
        str(ROOT),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--http",
        "httptools",
        "--loop",
        "uvloop",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def worker_pids(port: int) -> list[int]:
    """The uvicorn processes (parent and workers) serving ``port``."""
    parents = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"cityos.asgi:app" in cmd and str(port).encode() in cmd:
                parents.append(int(entry.name))
    pids = list(parents)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if int(status.split("PPid:", 1)[1].split()[0]) in parents:
                pids.append(int(entry.name))
    return pids


def peak_rss_mb(pids: list[int]) -> float:
    """The largest VmHWM (peak resident set) among the processes, MiB."""
    peak = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak / 1024


def page_latencies(base: str, path: str, n: int) -> list[float]:
    import httpx

    out = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(10):
            client.get(path)
        for _ in range(n):
            started = time.perf_counter()
            answer = client.get(path)
            out.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 200:
                raise SystemExit(f"{path} answered {answer.status_code}")
    return out


def download_csv(base: str, code: str) -> tuple[int, float]:
    import httpx

    size = 0
    started = time.perf_counter()
    with httpx.stream("GET", f"{base}/api/v1/open/datasets/{code}/download.csv", timeout=600) as r:
        r.raise_for_status()
        for chunk in r.iter_raw():
            size += len(chunk)
    return size, time.perf_counter() - started


def sqlite_baseline(inst: Instance, rid: str) -> tuple[int, float]:
    """Read the same table with the sqlite3 module and write CSV into a buffer, discarded."""
    from cityos.datastore.tables import table_name

    conn = sqlite3.connect(inst.sqlite_file)
    started = time.perf_counter()
    cur = conn.execute(
        f'SELECT station, district, aqi, pm25, day, longitude, latitude FROM "{table_name(rid)}"'
    )
    size = 0
    with open(os.devnull, "w", encoding="utf-8") as sink:
        while rows := cur.fetchmany(5000):
            buffer = io.StringIO()
            csv.writer(buffer).writerows(rows)
            text = buffer.getvalue()
            size += len(text.encode())
            sink.write(text)
    conn.close()
    return size, time.perf_counter() - started


def records_phases(
    args: argparse.Namespace, inst: Instance, rid: str, code: str, cache_seconds: int
) -> dict[str, Phase]:
    port = free_port()
    env = {
        **inst.env,
        "CITYOS_OPEN_ANON_PER_MINUTE": "100000000",
        "CITYOS_OPEN_ANON_PER_DAY": "1000000000",
        "CITYOS_OPEN_CACHE_SECONDS": str(cache_seconds),
    }
    requests = {"open": request_bytes(f"/api/v1/open/datasets/{code}/records", QUERY, {})}
    if cache_seconds:
        requests["datastore"] = request_bytes(f"/api/v1/datastore/{rid}/records", QUERY, {})
    phases = {name: Phase(name) for name in requests}
    with server(uvicorn(port, args.workers), port, "/healthz", env=env, logname="open"):
        for req in requests.values():
            run_phase(port, req, args.clients, 2, None)
        pids = worker_pids(port)
        for _ in range(args.rounds):
            for name, req in requests.items():
                before = server_cpu(pids)
                run_phase(port, req, args.clients, args.seconds, phases[name])
                phases[name].server_cpu += server_cpu(pids) - before
    return phases


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/bench_open.py", description=__doc__)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--page-requests", type=int, default=300)
    args = p.parse_args(argv)
    inst, rid, code, demo_code = prepare(args.rows)
    lines: list[str] = []

    port = free_port()
    env = {**inst.env, "CITYOS_OPEN_ANON_PER_MINUTE": "100000000"}
    env["CITYOS_OPEN_ANON_PER_DAY"] = "1000000000"
    with server(uvicorn(port, args.workers), port, "/healthz", env=env, logname="open") as base:
        page = page_latencies(base, f"/open/datasets/{demo_code}", args.page_requests)
        health = page_latencies(base, "/healthz", args.page_requests)
        lines.append(
            f"| (a) anonymous dataset page /open/datasets/{demo_code} p50 / p95 | "
            f"{percentile(page, 50):.1f} / {percentile(page, 95):.1f} ms | "
            f"/healthz {percentile(health, 50):.1f} / {percentile(health, 95):.1f} ms | "
            f"p95 ≤ {TARGETS['page_p95_ms']:.0f} ms |"
        )
        pids = worker_pids(port)
        rss_before = peak_rss_mb(pids)
        size, seconds = download_csv(base, code)  # streamed from the datastore, kept as a file
        rss_first = peak_rss_mb(pids)
        again = [download_csv(base, code) for _ in range(3)]  # sent from the kept file
        rss_after = peak_rss_mb(pids)
    base_size, base_seconds = sqlite_baseline(inst, rid)
    mb = size / 1e6
    baseline = f"sqlite3 module → CSV {base_size / 1e6 / base_seconds:.1f} MB/s"
    target = f"≥ {TARGETS['csv_mb_s']:.0f} MB/s, flat"
    lines.append(
        f"| (c) CSV download of {args.rows:,} rows ({mb:.0f} MB), first (streamed) | "
        f"{mb / seconds:.1f} MB/s, peak RSS {rss_before:.0f} → {rss_first:.0f} MiB | "
        f"{baseline} | {target} |"
    )
    best = min(s for _n, s in again)
    lines.append(
        f"| (c) the same download again (kept file) | {mb / best:.1f} MB/s, peak RSS "
        f"{rss_first:.0f} → {rss_after:.0f} MiB | {baseline} | {target} |"
    )
    cached = records_phases(args, inst, rid, code, 30)
    uncached = records_phases(args, inst, rid, code, 0)
    for label, phase in (
        ("open records API, cached", cached["open"]),
        ("open records API, cache off", uncached["open"]),
        ("plain /api/v1/datastore records", cached["datastore"]),
    ):
        lines.append(
            f"| (b) {label}, {args.clients} connections, {args.workers} workers | "
            f"{phase.rps:,.0f} req/s | server CPU {phase.cpu_ms():.2f} ms/request (2 cores: "
            f"≤ {2000 / max(phase.cpu_ms(), 0.001):,.0f} req/s), "
            f"p50 {percentile(phase.latencies, 50):.1f} ms, p95 "
            f"{percentile(phase.latencies, 95):.1f} ms, statuses {phase.statuses} | "
            f"{'≥ 2,000 req/s' if label.endswith('cached') else '—'} |"
        )
    load = os.getloadavg()[0]
    print(f"\nOpen data benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load:.1f}")
    print("| measure | result | baseline / detail | target |\n|---|---|---|---|")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
