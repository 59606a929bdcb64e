"""`python bench/bench_exchange.py`: throughput of the exchange's authorized record query.

What runs:
1. a fresh SQLite instance (bench/.work/exchange-sqlite) with a 100,000-row synthetic population
   resource (身份证号 graded 重要 — stored encrypted at rest and masked —, 姓名, 性别, 年龄, 所属区,
   街道, 手机号码, 备注), shared on conditions by 市公安局; a grant to 市民政局 (6 of the 8 items,
   rows of two districts) and an authorization code; an 无条件开放 copy of the same data;
2. ``cityos.asgi:app`` under uvicorn (httptools, uvloop, no access log) in a subprocess;
3. 50 concurrent keep-alive connections from a small asyncio HTTP/1.1 client in this process
   (uvloop), each sending the next request as soon as the previous answer arrived, for
   ``--seconds`` per phase after a warm-up, in rounds: ours, baseline, ours, baseline …

ours: ``GET /api/v1/exchange/records?district=美兰区&age=35&limit=10`` with the code: code check
(one indexed query), rate limit, row scope, masking (身份证号 4601**********1234), and an audit
record committed (group commit) before each answer.
baseline: the same query and fields through ``GET /api/v1/datastore/{copy}/records``,
anonymous: no code, no masking, no audit; the same table layout (the copy is encrypted at rest
too), the same server, the same run.

Prints req/s, p50/p95/p99 and the ratio; the client's own CPU per request is printed too (it
shares the 2 cores with the server). ``--record`` writes the run into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import os
import random
import resource
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import city, report
from bench.common import (
    MAIN_BIN,
    ROOT,
    WORK,
    Result,
    free_port,
    log,
    percentile,
    pg_drop_created,
    server,
)

TARGET_RPS = 1500.0
TARGET_P99_MS = 50.0
TARGET_OVERHEAD = 1.5
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘符蒋蔡"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉健俊帆琳晨海南"
DISTRICTS = (("秀英区", "460105"), ("龙华区", "460106"), ("琼山区", "460107"), ("美兰区", "460108"))
STREETS = ("海秀街道", "金宇街道", "府城街道", "白龙街道", "海甸街道", "大致坡镇", "长流镇")
# field, 信息项名称, type, grade, personal-information type
ITEMS: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("id_card", "公民身份号码", "string", "重要", "id_card"),
    ("name", "姓名", "string", "一般-3", "name"),
    ("gender", "性别", "string", "一般-1", None),
    ("age", "年龄", "integer", "一般-1", None),
    ("district", "所属区", "string", "一般-1", None),
    ("street", "街道（乡镇）", "string", "一般-1", None),
    ("mobile", "手机号码", "string", "一般-4", "mobile"),
    ("note", "备注", "text", "一般-1", None),
)
GRANTED = ("id_card", "name", "gender", "age", "district", "street")
QUERY = {"district": "美兰区", "age": "35", "limit": "10"}
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_card(rng: random.Random, district_code: str, born: date) -> str:
    body = f"{district_code}{born:%Y%m%d}{rng.randrange(1000):03d}"
    total = sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def people_csv(rows: int) -> Path:
    path = WORK / f"people-{rows}.csv"
    if path.exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20261125)
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow([i[0] for i in ITEMS])
        for _ in range(rows):
            district, code = DISTRICTS[rng.randrange(4)]
            age = rng.randrange(18, 90)
            born = date(2026 - age, 1, 1) + timedelta(days=rng.randrange(365))
            name = rng.choice(SURNAMES) + "".join(
                rng.choice(GIVEN) for _ in range(rng.randint(1, 2))
            )
            out.writerow(
                [
                    id_card(rng, code, born),
                    name,
                    rng.choice("男女"),
                    age,
                    district,
                    rng.choice(STREETS),
                    f"13{rng.randrange(10**9):09d}",
                    rng.choice(("", "低保户", "独居老人", "退役军人")),
                ]
            )
    return path


# --------------------------------------------------------------------------- the plain baseline


def _same(record: dict[str, Any]) -> dict[str, Any]:
    return record


def _plain_app() -> Any:
    """``cityos.asgi:app`` plus ``GET /bench/plain``: the exchange's query path (same grant, plan,
    row scope, prepared statements, decryption, JSON) without a code, masking or audit."""
    from dataclasses import replace

    from fastapi import Request
    from fastapi.responses import Response
    from starlette.routing import Route

    from cityos.asgi import app
    from cityos.exchange import api as exchange_api
    from cityos.exchange import records
    from cityos.exchange.plan import plan_for

    grant_id = os.environ["BENCH_GRANT_ID"]
    cache: dict[str, Any] = {}
    plain: dict[str, Any] = {}

    async def endpoint(request: Request) -> Response:
        plan = plan_for(app.state.db, cache, grant_id, 1)
        if plain.get("of") is not plan:  # the same plan with every item kept as it is
            plain["of"] = plan
            plain["plan"] = replace(
                plan, methods={f: "keep" for f in plan.granted}, mask=_same, statements={}
            )
        p = exchange_api.paging(request)
        result = records.page(
            app.state.db,
            plain["plan"],
            fields=p.fields,
            filters=exchange_api.query_filters(request),
            q=p.q,
            sort=p.sort,
            limit=p.limit,
            offset=p.offset,
            include_total=p.include_total,
        )
        body = {
            "resource_id": plan.resource_id,
            "fields": result.fields,
            "records": result.records,
            "total": result.total,
            "limit": p.limit,
            "offset": p.offset,
        }
        return exchange_api._json(body)

    async def stats(request: Request) -> Response:
        from cityos.exchange.access import runtime

        return exchange_api._json(runtime(app).writer.stats())

    app.router.routes.insert(0, Route("/bench/plain", endpoint, methods=["GET"]))
    app.router.routes.insert(0, Route("/bench/stats", stats, methods=["GET"]))
    return app


def __getattr__(name: str) -> Any:
    """``uvicorn bench.bench_exchange:app`` (module attribute made on first access)."""
    if name == "app":
        globals()["app"] = made = _plain_app()
        return made
    raise AttributeError(name)


# --------------------------------------------------------------------------- the instance


def make_resource(inst: city.Instance, name: str, share: str, open_type: str) -> str:
    from cityos.catalog import services as catalog
    from cityos.catalog.models import ResourceItem
    from cityos.catalog.schemas import ItemIn, ResourceIn

    data = ResourceIn(
        name=name,
        class_code="211001",
        provider_id=inst.dept_id,
        summary="基准测试用的生成数据：公民身份号码、姓名、性别、年龄、所属区、街道、手机号码。",
        share_type=share,
        share_condition="限政务部门依法履职使用" if share == "conditional" else "",
        open_type=open_type,
        update_cycle="daily",
        items=[ItemIn(field=f, name=n, data_type=t) for f, n, t, _g, _p in ITEMS],
    )
    with inst.db.session() as session:
        res = catalog.create_resource(session, data, inst.officer)
        for action in ("submit", "confirm", "publish"):
            catalog.transition(session, res.id, action, inst.admin)
        grades = {f: (g, p) for f, _n, _t, g, p in ITEMS}
        for item in session.query(ResourceItem).filter(ResourceItem.resource_id == res.id):
            item.grade, item.pi_type = grades[item.field]
            item.grade_status = "confirmed"
        return res.id


def load(inst: city.Instance, resource_id: str, path: Path) -> None:
    from cityos.datastore import services as datastore

    started = time.perf_counter()
    with path.open("rb") as stream:
        batch = datastore.load_file(
            inst.db, resource_id, stream, filename=path.name, actor=inst.officer
        )
    log(f"  loaded {batch.rows_accepted:,} rows in {time.perf_counter() - started:.1f} s")


@dataclass
class Setup:
    inst: city.Instance
    resource_id: str
    copy_id: str
    code: str
    grant_id: str


def prepare(rows: int, backend: str) -> Setup:
    from cityos.catalog.models import Resource
    from cityos.config import Settings
    from cityos.core.db import utcnow
    from cityos.crypto import envelope
    from cityos.exchange.services import issue_code
    from cityos.sharing.grants import create_grant

    inst = city.create(backend, f"exchange-{backend}")
    # the server's master key: the one kept in the instance's data dir
    envelope.configure(inst.db.engine, Settings(data_dir=inst.data_dir, database_url=inst.url))
    path = people_csv(rows)
    rid = make_resource(inst, "实有人口基础信息（基准测试）", "conditional", "none")
    copy = make_resource(
        inst, "实有人口基础信息（基准测试，开放副本）", "unconditional", "unconditional"
    )
    log(f"loading {rows:,} people twice (the granted resource and its open copy)")
    load(inst, rid, path)
    load(inst, copy, path)
    city.analyze(inst)
    consumer = city.add_org(inst.db, 4, "海口市民政局")
    with inst.db.session() as session:
        resource = session.get(Resource, rid)
        assert resource is not None
        grant = create_grant(
            session,
            resource=resource,
            consumer_org_id=consumer,
            items=list(GRANTED),
            valid_from=date.today() - timedelta(days=1),
            valid_until=date.today() + timedelta(days=365),
            actor=inst.admin,
            purpose="最低生活保障资格核验（基准测试）",
            row_scope={"district": ["美兰区", "龙华区"]},
        )
        _row, code = issue_code(
            session,
            grant,
            inst.admin,
            expires_at=utcnow() + timedelta(days=30),
            label="bench",
            rate_limit_per_minute=1_000_000,
        )
        grant_id = grant.id
    inst.db.dispose()
    return Setup(inst, rid, copy, code, grant_id)


# --------------------------------------------------------------------------- the client


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)  # ms
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0

    def cpu_ms(self) -> float:
        """Server CPU milliseconds per request (independent of what else runs on the machine)."""
        return self.server_cpu / max(1, len(self.latencies)) * 1000

    def client_ms(self) -> float:
        return self.client_cpu / max(1, len(self.latencies)) * 1000

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def request_bytes(path: str, params: dict[str, str], headers: dict[str, str]) -> bytes:
    lines = [f"GET {path}?{urlencode(params)} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, req: bytes) -> int:
    writer.write(req)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
            break
    else:
        raise RuntimeError("the bench client needs Content-Length answers")
    await reader.readexactly(length)
    return status


async def _drive(port: int, req: bytes, clients: int, seconds: float, phase: Phase | None) -> None:
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(clients)]
    deadline = time.perf_counter() + seconds
    perf = time.perf_counter

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while perf() < deadline:
            start = perf()
            status = await _one(reader, writer, req)
            if phase is not None:
                phase.latencies.append((perf() - start) * 1000)
                phase.statuses[status] = phase.statuses.get(status, 0) + 1

    cpu = _cpu()
    started = perf()
    await asyncio.gather(*(worker(r, w) for r, w in conns))
    if phase is not None:
        phase.seconds += perf() - started
        phase.client_cpu += _cpu() - cpu
    for _r, w in conns:
        w.close()


def server_pids(port: int) -> list[int]:
    """The uvicorn process serving ``port`` and its workers (from /proc)."""
    parents = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            if b"bench.bench_exchange:app" in cmd and str(port).encode() in cmd:
                parents.append(int(entry.name))
    pids = list(parents)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                status = (entry / "status").read_text()
                ppid = int(status.split("PPid:", 1)[1].split()[0])
                if ppid in parents:
                    pids.append(int(entry.name))
    return pids


def server_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) the server processes used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_phase(port: int, req: bytes, clients: int, seconds: float, phase: Phase | None) -> None:
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:  # pragma: no cover
        runner = asyncio.run
    pids = server_pids(port)
    before = server_cpu(pids)
    runner(_drive(port, req, clients, seconds, phase))
    if phase is not None:
        phase.server_cpu += server_cpu(pids) - before


def check_answers(base: str, setup: Setup) -> None:
    import httpx

    ours = httpx.get(
        f"{base}/api/v1/exchange/records",
        params=QUERY,
        headers={"Authorization": f"Bearer {setup.code}"},
        timeout=30,
    )
    ours.raise_for_status()
    body = ours.json()
    first = body["records"][0] if body["records"] else {}
    log(f"  ours: total {body['total']}, first record {first}")
    if first and "*" not in str(first.get("id_card")):
        raise SystemExit("the ID number is not masked: stop")
    theirs = httpx.get(
        f"{base}/api/v1/datastore/{setup.copy_id}/records",
        params={**QUERY, "fields": ",".join(GRANTED)},
        timeout=30,
    )
    theirs.raise_for_status()
    log(f"  baseline: total {theirs.json()['total']}")


def measure(args: argparse.Namespace, setup: Setup) -> dict[str, Phase]:
    port = free_port()
    cmd = [
        str(MAIN_BIN / "uvicorn"),
        "bench.bench_exchange:app",
        "--app-dir",
        str(ROOT),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(args.workers),
        "--http",
        "httptools",
        "--loop",
        "uvloop",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    fields = {"fields": ",".join(GRANTED)}
    requests = {
        "ours": request_bytes(
            "/api/v1/exchange/records", QUERY, {"Authorization": f"Bearer {setup.code}"}
        ),
        "plain": request_bytes("/bench/plain", {**QUERY, **fields}, {}),
        "datastore": request_bytes(
            f"/api/v1/datastore/{setup.copy_id}/records", {**QUERY, **fields}, {}
        ),
    }
    phases = {name: Phase(name) for name in requests}
    env = {**setup.inst.env, "BENCH_GRANT_ID": setup.grant_id}
    with server(cmd, port, "/api/v1/openapi.json", env=env, logname="exchange") as url:
        check_answers(url, setup)
        time.sleep(3)  # the background (district, age) indexes of both tables
        log(f"warming up ({args.clients} connections)")
        for req in requests.values():
            run_phase(port, req, args.clients, 3, None)
        for i in range(args.rounds):
            log(f"round {i + 1}/{args.rounds}: {args.seconds:.0f} s each of {', '.join(phases)}")
            for name, req in requests.items():
                run_phase(port, req, args.clients, args.seconds, phases[name])
        import httpx

        for _ in range(2):  # a sample of the workers' audit writers
            log(f"  audit writer of a worker: {httpx.get(url + '/bench/stats').json()}")
    return phases


def audited(setup: Setup) -> int:
    from sqlalchemy import func, select

    from cityos.audit.models import AuditRecord
    from cityos.core.db import Database

    db = Database(setup.inst.url)
    with db.session() as session:
        n = session.scalar(select(func.count()).where(AuditRecord.action == "exchange.records"))
    db.dispose()
    return int(n or 0)


def results(phases: dict[str, Phase], workers: int, audit_rows: int, backend: str) -> list[Result]:
    ours, plain, store = phases["ours"], phases["plain"], phases["datastore"]
    ratio = plain.rps / ours.rps if ours.rps else float("inf")
    p99 = percentile(ours.latencies, 99)
    cores = os.cpu_count() or 1
    note = (
        f"{len(ours.latencies):,} requests, statuses {ours.statuses}, {audit_rows:,} audit "
        f"records; 50 connections, {workers} worker(s); baseline: the same query path without "
        f"code, masking or audit"
    )
    out = [
        Result(
            "exchange: authorized masked audited query, req/s",
            backend,
            ours.rps,
            plain.rps,
            "req/s",
            f"≥ {TARGET_RPS:,.0f} req/s; overhead ≤ {TARGET_OVERHEAD}×",
            ours.rps >= TARGET_RPS and ratio <= TARGET_OVERHEAD,
            higher_is_better=True,
            note=note,
        )
    ]
    for pct in (50, 95, 99):
        out.append(
            Result(
                f"exchange: latency p{pct}",
                backend,
                percentile(ours.latencies, pct),
                percentile(plain.latencies, pct),
                "ms",
                f"≤ {TARGET_P99_MS:.0f} ms" if pct == 99 else "—",
                (p99 <= TARGET_P99_MS) if pct == 99 else None,
            )
        )
    budget = cores / TARGET_RPS * 1000 - ours.client_ms()
    out.append(
        Result(
            "exchange: server CPU per request",
            backend,
            ours.cpu_ms(),
            plain.cpu_ms(),
            "ms",
            f"≤ {budget:.2f} ms ({cores} cores / {TARGET_RPS:,.0f} req/s − client)",
            ours.cpu_ms() <= budget,
            note=f"client {ours.client_ms():.3f} ms/request",
        )
    )
    out.append(
        Result(
            "context: datastore API, anonymous, open copy, req/s",
            backend,
            store.rps,
            None,
            "req/s",
            "—",
            None,
            higher_is_better=True,
            note=f"server CPU {store.cpu_ms():.2f} ms/request, p99 "
            f"{percentile(store.latencies, 99):.0f} ms",
        )
    )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/bench_exchange.py", description=__doc__)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=float, default=10.0, help="per phase and round")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    p.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql"))
    p.add_argument("--record", action="store_true", help="write the run into docs/benchmarks.md")
    args = p.parse_args(argv)
    sha = report.commit()
    try:
        setup = prepare(args.rows, args.backend)
        phases = measure(args, setup)
        found = results(phases, args.workers, audited(setup), args.backend)
    finally:
        pg_drop_created()
    print(report.text_table(found))
    ours, plain = phases["ours"], phases["plain"]
    cores = os.cpu_count() or 1
    for phase in phases.values():
        print(
            f"{phase.name:>9}: {phase.rps:7,.0f} req/s, p50 {percentile(phase.latencies, 50):6.1f} "
            f"ms, p99 {percentile(phase.latencies, 99):6.1f} ms, server CPU "
            f"{phase.cpu_ms():.2f} ms/request (≤ "
            f"{cores / (phase.cpu_ms() + phase.client_ms()) * 1000:,.0f} req/s on {cores} idle "
            f"cores), client CPU {phase.client_ms():.3f} ms/request"
        )
    print(f"overhead (plain / ours req/s): {plain.rps / max(ours.rps, 1e-9):.2f}×")
    if args.record:
        command = (
            f"python bench/bench_exchange.py --rows {args.rows} --clients {args.clients} "
            f"--seconds {args.seconds:g} --rounds {args.rounds} --workers {args.workers} "
            f"--backend {args.backend}"
        )
        notes = [f"load average at the end: {os.getloadavg()[0]:.1f} (other work on the machine)"]
        report.record(found, command, {}, notes, sha)
        log(f"recorded in {report.DOC.relative_to(report.ROOT)}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    os._exit(1)
