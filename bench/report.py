"""The results table, the machine it ran on, and the run sections of docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import re
import sqlite3
import subprocess
from datetime import UTC, datetime

from bench.common import PG_ADMIN_URL, ROOT, Result

DOC = ROOT / "docs" / "benchmarks.md"
RESULTS_HEADING = "## Results"
BEGIN, END = "<!-- bench-run {key} -->", "<!-- /bench-run -->"
HEADER = ("benchmark", "backend", "ours", "baseline", "ratio", "target", "met?")


def _git(*args: str) -> str:
    out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.strip()


def commit() -> str:
    sha = _git("rev-parse", "--short", "HEAD")
    dirty = _git("status", "--porcelain", "--", "cityos")
    return f"{sha} (+ uncommitted cityos/ changes)" if dirty else sha


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _ram_gib() -> str:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kib = int(re.findall(r"MemTotal:\s+(\d+)", f.read())[0])
        return f"{kib / 1024**2:.0f} GiB"
    except (OSError, IndexError):
        return "?"


def _sqlite_cli() -> str:
    try:
        out = subprocess.run(["sqlite3", "--version"], capture_output=True, text=True)
        return out.stdout.split()[0]
    except (OSError, IndexError):
        return "absent"


def _postgres() -> str:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]).split()[0] if row else "?"
    except Exception:
        return "unreachable"


def machine(extra: dict[str, str]) -> str:
    parts = {
        "cores": str(os.cpu_count()),
        "CPU": _cpu_model(),
        "RAM": _ram_gib(),
        "Python": platform.python_version(),
        "SQLite": f"{sqlite3.sqlite_version} (CLI {_sqlite_cli()})",
        "PostgreSQL": _postgres(),
        **extra,
    }
    return " · ".join(f"{k} {v}" for k, v in parts.items())


def _num(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if value >= 1000 else f"{value:.3g}" if value < 10 else f"{value:.1f}"
    return f"{text} {unit}"


def rows(results: list[Result]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for r in results:
        ratio = r.ratio
        met = "—" if r.met is None else ("yes" if r.met else "**no**")
        out.append(
            (
                r.benchmark + (f" ({r.note})" if r.note else ""),
                r.backend,
                _num(r.ours, r.unit),
                _num(r.baseline, r.unit),
                "—" if ratio is None else f"{ratio:.2f}×",
                r.target,
                met,
            )
        )
    return out


def markdown_table(results: list[Result]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows(results)]
    return "\n".join(lines)


def text_table(results: list[Result]) -> str:
    table = [HEADER, *rows(results)]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in table
    )


def record(
    results: list[Result], command: str, extra: dict[str, str], notes: list[str], sha: str
) -> str:
    """Insert this run (newest first) into docs/benchmarks.md, replacing a run with the same key.

    ``sha`` is :func:`commit` taken when the run started (the code that was measured).
    """
    when = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    key = f"{sha.split()[0]} {command}"
    body = [
        BEGIN.format(key=key),
        f"### {when} · commit {sha}",
        "",
        f"`{command}` — {machine(extra)}",
        "",
        markdown_table(results),
        *([""] + [f"- {n}" for n in notes] if notes else []),
        END,
    ]
    section = "\n".join(body)
    text = (
        DOC.read_text(encoding="utf-8") if DOC.exists() else f"# Benchmarks\n\n{RESULTS_HEADING}\n"
    )
    old = re.compile(re.escape(BEGIN.format(key=key)) + r".*?" + re.escape(END) + r"\n*", re.S)
    text = old.sub("", text)
    if RESULTS_HEADING not in text:
        text = text.rstrip() + f"\n\n{RESULTS_HEADING}\n"
    head, tail = text.split(RESULTS_HEADING, 1)
    intro, _, rest = tail.partition("\n<!-- bench-run")
    rest = ("<!-- bench-run" + rest) if rest else ""
    text = f"{head}{RESULTS_HEADING}{intro.rstrip()}\n\n{section}\n\n{rest}".rstrip() + "\n"
    DOC.write_text(text, encoding="utf-8")
    return section
