"""`python -m bench.audit_verify [--records N] [--keep DIR]`: audit log verification speed.

Builds a SQLite audit log of N records (default 1,000,000) with realistic rows, signs tree
heads over it, then measures:

* ``cityos audit verify`` (the CLI, in process) in records/s,
* a plain ``SELECT`` of the same rows through the same cursor (the floor), and their ratio,
* SM3 and SM4-GCM throughput (MB/s) and SM2 signatures per second.

Standalone: prints its figures and writes nothing outside its temporary data dir.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

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


def plain_select(path: Path) -> tuple[int, float, float]:
    """The same rows through a plain SELECT of their columns, doing nothing with them."""
    conn = sqlite3.connect(path)
    started, cpu = time.perf_counter(), _cpu()
    cursor = conn.execute(
        "SELECT leaf_index, id, at, actor_id, actor_name, org_id, action, target_type, "
        "target_id, detail, ip, leaf_hash FROM audit_records ORDER BY leaf_index"
    )
    count = 0
    while rows := cursor.fetchmany(20_000):
        count += len(rows)
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    conn.close()
    return count, seconds, cpu


def cli_verify(data_dir: Path) -> tuple[float, float, str]:
    started, cpu = time.perf_counter(), _cpu()
    result = CliRunner().invoke(cli, ["audit", "verify", "--data-dir", str(data_dir)])
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    if result.exit_code != 0:
        raise SystemExit(f"audit verify failed:\n{result.output}")
    return seconds, cpu, result.output.strip()


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
    parser.add_argument("--keep", help="build (or reuse) the log in this directory")
    args = parser.parse_args(argv)

    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="cityos-audit-"))
    data_dir = workdir / "data"
    if not (data_dir / "cityos.db").exists():
        started = time.perf_counter()
        build_log(data_dir, args.records)
        print(f"built {args.records:,} records in {time.perf_counter() - started:.1f} s")
    db_path = data_dir / "cityos.db"

    plain_select(db_path)  # warm the page cache
    count, select_s, select_cpu = plain_select(db_path)
    verify_s, verify_cpu, output = cli_verify(data_dir)
    print(output.splitlines()[0])
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")
    print(f"{'records':<30}{count:>12,}")
    print(
        f"{'audit verify (CLI)':<30}{count / verify_s:>12,.0f} records/s "
        f"({verify_s:.2f} s wall, {verify_cpu:.2f} s CPU in all processes)"
    )
    print(
        f"{'plain SELECT':<30}{count / select_s:>12,.0f} records/s "
        f"({select_s:.2f} s wall, {select_cpu:.2f} s CPU)"
    )
    print(f"{'verify / SELECT (wall)':<30}{verify_s / select_s:>12.1f} x")
    print(f"{'verify / SELECT (CPU)':<30}{verify_cpu / select_cpu:>12.1f} x")
    for name, (per_wall, per_cpu) in crypto_speeds().items():
        print(f"{name:<30}{per_wall:>12,.0f} (per CPU second: {per_cpu:,.0f})")


if __name__ == "__main__":
    main()
