"""Loading the CSV: our ``datastore.services.load_file`` against the database's own bulk import.

Baselines, into a same-shaped table (the same column types and the same unique index on the
key ``id``): the sqlite3 command line's ``.import --csv --skip 1`` into a fresh database file
(WAL, synchronous=FULL like ours), and PostgreSQL's ``COPY … FROM STDIN (FORMAT csv)`` through
psycopg into a table of the same database.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import Column, Index, MetaData, Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from bench import city
from bench.common import WORK, Result, log, plain_pg_url
from bench.csvgen import COLUMNS, generate
from cityos.catalog import services as catalog
from cityos.catalog.schemas import ItemIn, ResourceIn

TARGET_ROWS_S = 100_000
TARGET_RATIO = 0.5  # within 2× of the baseline
BASELINE_TABLE = "bench_import"


@dataclass
class Loaded:
    """A loaded dataset, kept for the query benchmark."""

    inst: city.Instance
    resource_id: str
    rows: int


def baseline_table(dialect: str) -> tuple[str, str]:
    """CREATE TABLE and CREATE UNIQUE INDEX of the same shape as our ds_ table (minus ``_id``)."""
    from cityos.datastore.tables import sql_type

    table = Table(BASELINE_TABLE, MetaData(), *(Column(f, sql_type(t)) for f, _n, t in COLUMNS))
    index = Index(f"{BASELINE_TABLE}_key", table.c.id, unique=True)
    d = sqlite.dialect() if dialect == "sqlite" else postgresql.dialect()
    return str(CreateTable(table).compile(dialect=d)), str(CreateIndex(index).compile(dialect=d))


def sqlite_cli_import(csv: Path) -> float:
    """Seconds the sqlite3 CLI takes to import ``csv`` into a fresh file."""
    db = WORK / "baseline-import.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    create, index = baseline_table("sqlite")
    script = (
        f"PRAGMA journal_mode=WAL;\nPRAGMA synchronous=FULL;\n{create};\n{index};\n"
        f".import --csv --skip 1 {csv} {BASELINE_TABLE}\n"
    )
    start = time.perf_counter()
    subprocess.run(["sqlite3", str(db)], input=script, text=True, check=True, capture_output=True)
    seconds = time.perf_counter() - start
    out = subprocess.run(
        ["sqlite3", str(db), f"SELECT count(*) FROM {BASELINE_TABLE}"],
        capture_output=True,
        text=True,
        check=True,
    )
    log(f"  sqlite3 .import: {int(out.stdout):,} rows in {seconds:.1f} s")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return seconds


def pg_copy(url: str, csv: Path) -> float:
    """Seconds COPY FROM STDIN takes (psycopg, 1 MiB writes) in the instance's database."""
    import psycopg

    create, index = baseline_table("postgresql")
    with psycopg.connect(plain_pg_url(url)) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {BASELINE_TABLE}")
        conn.execute(create)
        conn.execute(index)
        conn.execute("SET timezone = 'Asia/Shanghai'")  # naive times are Beijing time, as ours
        conn.commit()
        cols = ", ".join(f for f, _n, _t in COLUMNS)
        start = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                f"COPY {BASELINE_TABLE} ({cols}) FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy,
            csv.open("rb") as f,
        ):
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - start
        count = conn.execute(f"SELECT count(*) FROM {BASELINE_TABLE}").fetchone()
        log(f"  COPY: {count[0] if count else 0:,} rows in {seconds:.1f} s")
        conn.execute(f"DROP TABLE {BASELINE_TABLE}")
        conn.commit()
    return seconds


def make_resource(inst: city.Instance) -> str:
    """The catalogue resource of the CSV: published, open, key ``id``."""
    data = ResourceIn(
        name="海口市市场主体经营记录（基准测试）",
        class_code="211001",
        provider_id=inst.dept_id,
        summary="基准测试用的生成数据：姓名、所属区、行业类别、金额、次数、登记日期等。",
        open_type="unconditional",
        update_cycle="daily",
        key_fields=["id"],
        items=[ItemIn(field=f, name=n, data_type=t, required=(f == "id")) for f, n, t in COLUMNS],
    )
    with inst.db.session() as session:
        resource = catalog.create_resource(session, data, inst.officer)
        for action in ("submit", "confirm", "publish"):
            catalog.transition(session, resource.id, action, inst.admin)
        return resource.id


def ours(inst: city.Instance, resource_id: str, csv: Path) -> tuple[float, int]:
    """Seconds our loader takes, and the rows it stored."""
    from cityos.datastore import services as datastore

    start = time.perf_counter()
    with csv.open("rb") as stream:
        outcome = datastore.load_file(
            inst.db,
            resource_id,
            stream,
            filename=csv.name,
            actor=inst.officer,
            mode="append",
            on_error="reject_rows",
        )
    seconds = time.perf_counter() - start
    with inst.db.session() as session:
        stored = session.scalar(text(f"SELECT count(*) FROM ds_{resource_id}")) or 0
    log(
        f"  ours: {stored:,} rows in {seconds:.1f} s (batch {outcome.status}, "
        f"{outcome.rows_accepted:,} accepted, {outcome.rows_rejected:,} rejected)"
    )
    return seconds, int(stored)


def dataset(backend: str, rows: int) -> Loaded:
    """Create an instance and load the CSV into it (untimed); reuses a cached SQLite one."""
    name = f"load-{backend}-{rows}"
    info = city.cached(name) if backend == "sqlite" else None
    if info:
        return Loaded(city.attach(backend, WORK / name, info["url"]), info["resource_id"], rows)
    inst = city.create(backend, name)
    resource_id = make_resource(inst)
    ours(inst, resource_id, generate(rows))
    city.analyze(inst)
    if backend == "sqlite":
        city.remember(inst, resource_id=resource_id)
    return Loaded(inst, resource_id, rows)


def run(backend: str, rows: int) -> tuple[list[Result], Loaded]:
    csv = generate(rows)
    name = f"load-{backend}-{rows}"
    inst = city.create(backend, name)
    resource_id = make_resource(inst)
    log(f"loading {rows:,} rows ({backend}): baseline, ours, baseline again")
    if backend == "sqlite":
        baseline, label = sqlite_cli_import, "sqlite3 .import"
    else:
        baseline, label = partial(pg_copy, inst.url), "COPY"
    before = baseline(csv)
    our_s, stored = ours(inst, resource_id, csv)
    base_s = (before + baseline(csv)) / 2  # the machine is noisy: the mean of both sides
    city.analyze(inst)
    if backend == "sqlite":
        city.remember(inst, resource_id=resource_id)
    ours_rate, base_rate = rows / our_s, rows / base_s
    met = ours_rate >= TARGET_ROWS_S and ours_rate >= TARGET_RATIO * base_rate and stored == rows
    result = Result(
        f"load {rows:,}-row CSV",
        backend,
        ours_rate,
        base_rate,
        "rows/s",
        f"≥ {TARGET_ROWS_S:,} rows/s and ≥ 0.5× baseline",
        met,
        higher_is_better=True,
        note=f"vs {label}; {our_s:.1f} s vs {base_s:.1f} s (mean of 2)"
        + ("" if stored == rows else f"; only {stored:,} rows stored"),
    )
    return [result], Loaded(inst, resource_id, rows)
