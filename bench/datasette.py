"""Datasette, the query baseline: installed by the bench into its own venv, bench/.venv."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from bench.common import BENCH, free_port, log, server

VENV = BENCH / ".venv"
BIN = VENV / "bin"


def ensure_installed() -> Path:
    """Create bench/.venv with Datasette on first use; returns the datasette executable."""
    exe = BIN / "datasette"
    if not exe.exists():
        log("installing Datasette into bench/.venv (first run only)")
        if not (BIN / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(BIN / "pip"), "install", "--quiet", "--disable-pip-version-check", "datasette"],
            check=True,
        )
    return exe


def version() -> str:
    out = subprocess.run([str(ensure_installed()), "--version"], capture_output=True, text=True)
    return out.stdout.strip().split()[-1] if out.returncode == 0 else "?"


@contextlib.contextmanager
def serve(db_file: Path) -> Iterator[str]:
    """Serve ``db_file`` immutable (read-only, no locking) on a free port; yields the base URL."""
    port = free_port()
    cmd = [
        str(ensure_installed()),
        "serve",
        "-i",
        str(db_file),
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        "--setting",
        "sql_time_limit_ms",
        "10000",
        "--setting",
        "default_cache_ttl",
        "0",
        "--setting",
        "suggest_facets",
        "off",
    ]
    with server(cmd, port, "/-/versions.json", logname="datasette") as base:
        yield base
