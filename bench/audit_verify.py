"""`python -m bench.audit_verify [--records N] [--backend B] [--keep DIR] [--crypto]`.

Audit log verification speed. Builds a SQLite audit log of N records (default 1,000,000) with
realistic rows and ten signed tree heads, as the append path writes them (cached in
bench/.work/audit-N until the migrations change; ``--keep DIR`` builds or reuses it there), and
for PostgreSQL copies it into a new ``cityos_bench_audit_N`` database (dropped at the end).
Then, on each backend, it measures

* ``cityos audit verify`` (the CLI, in process; its workers are forked children) in records/s,
  wall and CPU time of all processes,
* a plain ``SELECT`` of the same rows' columns (the floor), in turn with verify, the
  fastest of two runs each, and
* with ``--crypto``, SM3 and SM4-GCM throughput (MB/s) and SM2 signatures per second.

``python -m bench audit`` runs it as part of the suite and records it in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from bench import city
from bench.common import WORK, Result, log, pg_drop_created, pg_recreate, plain_pg_url
from cityos.audit.leaf import at_iso, leaf_text
from cityos.audit.log import sign_tree_head
from cityos.audit.merkle import SM3_HASHER
from cityos.audit.models import canonical_json
from cityos.audit.signing import signer_from_settings
from cityos.cli import main as cli
from cityos.config import Settings
from cityos.core.db import Database
from cityos.core.migrate import upgrade
from cityos.crypto import sm2_generate_keypair, sm2_sign, sm3, sm4_gcm_encrypt

TARGET = 200_000  # records/s (the target)

ACTIONS = [
    "catalog.resource.create",
    "catalog.resource.update",
    "datastore.upload",
    "user.create",
    "token.create",
    "organisation.update",
    "share.request.approve",
]


def build_log(data_dir: Path, n: int, heads: int = 10) -> Settings:
    """N audit rows written as the append path writes them (same leaf text and hash)."""
    settings = Settings(data_dir=data_dir, sqlite_synchronous="OFF")
    settings.ensure_data_dir()
    upgrade(settings.resolved_database_url)
    rng = random.Random(7)
    users = [(f"{i:032x}", f"user{i}", f"{i % 40:032x}") for i in range(200)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    conn = sqlite3.connect(data_dir / "cityos.db")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    leaf = SM3_HASHER.leaf
    batch: list[tuple[object, ...]] = []
    for i in range(n):
        actor_id, actor_name, org_id = users[rng.randrange(len(users))]
        at = start + timedelta(milliseconds=37 * i + rng.randrange(30))
        action = ACTIONS[rng.randrange(len(ACTIONS))]
        target = f"{rng.getrandbits(128):032x}"
        detail = canonical_json(
            {"code": f"460100-{i:08d}", "name": "海口市公共数据资源", "rows": rng.randrange(10**6)}
        )
        ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
        text = leaf_text(
            i + 1,
            at_iso(at),
            actor_id,
            actor_name,
            org_id,
            action,
            "resource",
            target,
            detail,
            ip,
            i,
        )
        stored_at = at.strftime("%Y-%m-%d %H:%M:%S.%f")
        batch.append(
            (
                i + 1,
                stored_at,
                actor_id,
                actor_name,
                org_id,
                action,
                "resource",
                target,
                detail,
                ip,
                i,
                leaf(text.encode()),
            )
        )
        if len(batch) == 50_000 or i == n - 1:
            conn.executemany(
                "INSERT INTO audit_records (id, at, actor_id, actor_name, org_id, action, "
                "target_type, target_id, detail, ip, leaf_index, leaf_hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                batch,
            )
            batch.clear()
            if heads and (i + 1) % max(1, n // heads) == 0:
                conn.execute(
                    "INSERT INTO audit_log_state (id, next_leaf_index) VALUES (1, ?) "
                    "ON CONFLICT (id) DO UPDATE SET next_leaf_index = excluded.next_leaf_index",
                    (i + 1,),
                )
                conn.commit()
                db = Database(settings.resolved_database_url)
                sign_tree_head(db, signer_from_settings(settings))
                db.dispose()
    conn.execute(
        "INSERT INTO audit_log_state (id, next_leaf_index) VALUES (1, ?) "
        "ON CONFLICT (id) DO UPDATE SET next_leaf_index = excluded.next_leaf_index",
        (n,),
    )
    conn.commit()
    conn.close()
    db = Database(settings.resolved_database_url)
    sign_tree_head(db, signer_from_settings(settings))
    db.dispose()
    return settings


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the verify workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


COLUMNS = (
    "id, at, actor_id, actor_name, org_id, action, target_type, target_id, detail, ip, "
    "leaf_index, leaf_hash"
)
TABLES = {  # what verify reads besides the records, copied to PostgreSQL as they are
    "audit_tree_heads": "id, tree_size, root_hash, timestamp_ms, signature, key_id, frontier",
    "audit_log_state": "id, next_leaf_index",
    "audit_signing_keys": "key_id, public_pem, created_at",
}


def sqlite_log(records: int, keep: str | None) -> Path:
    """The data dir of an N-record SQLite log: ``keep``, or cached in bench/.work."""
    if keep:
        data_dir = Path(keep) / "data"
        if not (data_dir / "cityos.db").exists():
            _build(data_dir, records)
        return data_dir
    name = f"audit-{records}"
    data_dir = WORK / name
    if city.cached(name) is None:
        shutil.rmtree(data_dir, ignore_errors=True)
        _build(data_dir, records)
        (data_dir / "ready.json").write_text(json.dumps({"schema": city.schema_fingerprint()}))
    return data_dir


def _build(data_dir: Path, records: int) -> None:
    started = time.perf_counter()
    build_log(data_dir, records)
    log(f"built a {records:,}-record audit log in {time.perf_counter() - started:.1f} s")


def to_postgresql(sqlite_file: Path, records: int) -> str:
    """A new PostgreSQL database holding the same log (rows, heads, counter, key); its URL."""
    import psycopg

    url = pg_recreate(f"cityos_bench_audit_{records}")
    upgrade(url)
    started = time.perf_counter()
    source = sqlite3.connect(sqlite_file)
    with psycopg.connect(plain_pg_url(url)) as conn:
        for table, columns in {"audit_records": COLUMNS, **TABLES}.items():
            cursor = source.execute(f"SELECT {columns} FROM {table}")
            with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                while rows := cursor.fetchmany(20_000):
                    for row in rows:
                        copy.write_row(row)
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('audit_records', 'id'), "
            "(SELECT max(id) FROM audit_records))"
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")  # autovacuum is off on the bench machine
    source.close()
    log(f"copied the log to PostgreSQL in {time.perf_counter() - started:.1f} s")
    return url


def plain_select(backend: str, target: str) -> tuple[int, float, float]:
    """The same rows through a plain SELECT of their columns, doing nothing with them (the
    floor): SQLite through the sqlite3 module, PostgreSQL through a psycopg server-side cursor
    (as verify reads them)."""
    sql = f"SELECT {COLUMNS} FROM audit_records ORDER BY leaf_index"
    if backend == "postgresql":
        import psycopg

        conn: Any = psycopg.connect(plain_pg_url(target))
        started, cpu = time.perf_counter(), _cpu()
        cursor = conn.cursor(name="bench_plain_select")
        cursor.itersize = 20_000
    else:
        conn = sqlite3.connect(target)
        started, cpu = time.perf_counter(), _cpu()
        cursor = conn.cursor()
    cursor.execute(sql)
    count = 0
    while rows := cursor.fetchmany(20_000):
        count += len(rows)
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    conn.close()
    return count, seconds, cpu


def cli_verify(data_dir: Path, url: str | None = None) -> tuple[float, float, str]:
    """``cityos audit verify --data-dir DIR`` in process (its workers are forked children)."""
    env = {"CITYOS_DATABASE_URL": url} if url else None
    started, cpu = time.perf_counter(), _cpu()
    result = CliRunner().invoke(cli, ["audit", "verify", "--data-dir", str(data_dir)], env=env)
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    if result.exit_code != 0:
        raise RuntimeError(f"audit verify failed:\n{result.output}")
    return seconds, cpu, result.output.strip()


@dataclass
class Measured:
    backend: str
    records: int
    verify_s: float
    verify_cpu: float
    select_s: float
    select_cpu: float
    output: str

    def result(self) -> Result:
        ours, floor = self.records / self.verify_s, self.records / self.select_s
        return Result(
            f"audit verify, {self.records:,} records (CLI)",
            self.backend,
            ours,
            floor,
            "records/s",
            f"≥ {TARGET:,} records/s",
            ours >= TARGET,
            higher_is_better=True,
            note=(
                f"vs a plain SELECT of the same rows; {self.verify_s:.2f} s wall, "
                f"{self.verify_cpu:.2f} CPU-s in all processes "
                f"({self.records / self.verify_cpu:,.0f} records per CPU-s) vs "
                f"{self.select_s:.2f} s, {self.select_cpu:.2f} CPU-s; best of 2 each; "
                f"load average {os.getloadavg()[0]:.1f}"
            ),
        )


def measure(backend: str, data_dir: Path, records: int, rounds: int = 2) -> Measured:
    """Floor and verify in turn, ``rounds`` times each; the fastest of each (the machine is
    shared and noisy: the best run is the one least disturbed)."""
    if backend == "postgresql":
        url: str | None = to_postgresql(data_dir / "cityos.db", records)
        target = str(url)
    else:
        url, target = None, str(data_dir / "cityos.db")
    plain_select(backend, target)  # warm the caches
    floors, checks = [], []
    for _ in range(rounds):
        floors.append(plain_select(backend, target))
        checks.append(cli_verify(data_dir, url))
        log(f"{backend}: {checks[-1][2].splitlines()[0]}")
    count, select_s, select_cpu = min(floors, key=lambda f: f[1])
    verify_s, verify_cpu, output = min(checks, key=lambda c: c[0])
    return Measured(backend, count, verify_s, verify_cpu, select_s, select_cpu, output)


def run(backend: str, records: int, keep: str | None = None) -> list[Result]:
    """The suite's entry point (``python -m bench audit``)."""
    data_dir = sqlite_log(records, keep)
    return [measure(backend, data_dir, records).result()]


def crypto_speeds(mib: int = 64) -> dict[str, tuple[float, float]]:
    """name -> (per wall second, per CPU second): the second is steadier on a busy machine."""

    def timed(run: Callable[[], object]) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        return time.perf_counter() - wall, time.process_time() - cpu

    data = os.urandom(mib << 20)
    megabytes = mib * 1.048576
    wall, cpu = timed(lambda: sm3(data))
    out = {"SM3 MB/s": (megabytes / wall, megabytes / cpu)}
    key = os.urandom(16)
    wall, cpu = timed(lambda: sm4_gcm_encrypt(key, data))
    out["SM4-GCM MB/s"] = (megabytes / wall, megabytes / cpu)
    pair = sm2_generate_keypair()
    sm2_sign(pair.private_pem, b"warm up")
    n = 2000
    wall, cpu = timed(lambda: [sm2_sign(pair.private_pem, b"tree head %d" % i) for i in range(n)])
    out["SM2 signs/s"] = (n / wall, n / cpu)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_verify", description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql", "both"))
    parser.add_argument("--keep", help="build (or reuse) the SQLite log in this directory")
    parser.add_argument("--crypto", action="store_true", help="also SM3/SM4/SM2 speeds")
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    data_dir = sqlite_log(args.records, args.keep)
    print(f"machine: {os.cpu_count()} CPUs")
    try:
        for backend in backends:
            m = measure(backend, data_dir, args.records)
            print(f"[{backend}] {m.output.splitlines()[0]}")
            print(
                f"{'audit verify (CLI)':<30}{m.records / m.verify_s:>12,.0f} records/s "
                f"({m.verify_s:.2f} s wall, {m.verify_cpu:.2f} s CPU in all processes)"
            )
            print(
                f"{'plain SELECT':<30}{m.records / m.select_s:>12,.0f} records/s "
                f"({m.select_s:.2f} s wall, {m.select_cpu:.2f} s CPU)"
            )
            print(f"{'verify / SELECT (wall)':<30}{m.verify_s / m.select_s:>12.1f} x")
            print(f"{'verify / SELECT (CPU)':<30}{m.verify_cpu / m.select_cpu:>12.1f} x")
            print(f"load average {os.getloadavg()[0]:.1f}")
    finally:
        pg_drop_created()
    if args.crypto:
        for name, (per_wall, per_cpu) in crypto_speeds().items():
            print(f"{name:<30}{per_wall:>12,.0f} (per CPU second: {per_cpu:,.0f})")


if __name__ == "__main__":
    main()
