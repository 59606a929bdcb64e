"""Shared pieces: where things live, results, latency statistics, processes and PostgreSQL."""

from __future__ import annotations

import contextlib
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / ".work"
MAIN_BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_HOST_URL = PG_ADMIN_URL.rsplit("/", 1)[0]
PG_CREATED: list[str] = []  # databases this run created, dropped when it ends


@dataclass
class Result:
    """One row of the results table. ``higher_is_better`` says how to read ours/baseline."""

    benchmark: str
    backend: str
    ours: float
    baseline: float | None
    unit: str
    target: str
    met: bool | None
    higher_is_better: bool = False
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """How many times better (>1) or worse (<1) we are than the baseline."""
        if not self.baseline or not self.ours:
            return None
        return self.ours / self.baseline if self.higher_is_better else self.baseline / self.ours


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile (p50 = median of an odd sample)."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def timed(fn: Callable[[], object]) -> float:
    """Milliseconds one call takes."""
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server(
    cmd: list[str],
    port: int,
    probe: str,
    env: dict[str, str] | None = None,
    logname: str = "server",
) -> Iterator[str]:
    """Run an HTTP server in a subprocess until ``probe`` answers; stop it afterwards."""
    WORK.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{port}"
    with (WORK / f"{logname}.log").open("wb") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{cmd[0]} exited; see {WORK / (logname + '.log')}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(base + probe, timeout=5).status_code < 500:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{cmd[0]} did not answer on {base}{probe}")
                time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --------------------------------------------------------------------------- PostgreSQL


def pg_available() -> bool:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def pg_recreate(name: str) -> str:
    """Drop and create database ``name``; returns its SQLAlchemy URL."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
    PG_CREATED.append(name)
    return f"postgresql+psycopg://{PG_HOST_URL.split('://', 1)[1]}/{name}"


def pg_drop_created() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        while PG_CREATED:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_CREATED.pop()}" WITH (FORCE)')


def plain_pg_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://")
