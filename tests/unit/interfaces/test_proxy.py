"""Proxy services against a real local upstream (a tiny HTTP server in a thread): declared
outputs only, timeouts, retries, and the circuit breaker opening and recovering (half-open).
The breaker's clock is a fake one, so nothing here waits for it."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cityos.core.errors import ProblemError
from cityos.interfaces.proxy import ProxyRuntime
from tests.unit.interfaces.conftest import ENTERPRISE_A, World

RECORD = {
    "uscc": ENTERPRISE_A,
    "name": "海口椰风贸易有限公司",
    "status": "存续",
    "legal_representative": "陈大文",  # not a declared output: never passed on
}


@dataclass
class Upstream:
    """Answers from a script: each entry (status, body) or ("sleep", None); then ``default``."""

    script: list[tuple[Any, Any]] = field(default_factory=list)
    default: tuple[Any, Any] = (200, RECORD)
    requests: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    def next(self) -> tuple[Any, Any]:
        return self.script.pop(0) if self.script else self.default


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    state = Upstream()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            state.requests.append(f"{self.command} {self.path}")
            status, body = state.next()
            if status == "sleep":
                state.release.wait(5)  # longer than the service's timeout
                status, body = 200, RECORD
            payload = json.dumps(body, ensure_ascii=False).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up (timeout)

        do_GET = _answer
        do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(world: World) -> FakeClock:
    fake = FakeClock()
    world.app.state.interface_proxy = ProxyRuntime(clock=fake, sleep=lambda _s: None)
    return fake


def _proxy_service(world: World, port: int, **proxy: Any) -> dict[str, Any]:
    spec = {"base_url": f"http://127.0.0.1:{port}/api", "path": "/enterprises/{uscc}"}
    spec.update(proxy)
    body = world.lookup_body(kind="proxy", operation=None, proxy=spec)
    return world.confirmed(body, "officer_market")


def _caller(world: World, service: dict[str, Any]) -> Any:
    return world.caller(service, world.grant(service))


def _problem(world: World, service: dict[str, Any], caller: Any) -> ProblemError:
    with pytest.raises(ProblemError) as raised:
        world.call(service["code"], {"uscc": ENTERPRISE_A}, caller)
    return raised.value


def test_answer_is_cut_to_the_declared_outputs(
    world: World, upstream: Upstream, clock: FakeClock
) -> None:
    service = _proxy_service(world, upstream.port)
    caller = _caller(world, service)
    answer = world.call(service["code"], {"uscc": ENTERPRISE_A}, caller)
    assert answer == {"found": True, "name": "海口椰风贸易有限公司", "status": "存续"}
    assert upstream.requests == [f"GET /api/enterprises/{ENTERPRISE_A}"]
    upstream.script = [(404, {"error": "no such"}), (200, []), (200, [RECORD, RECORD])]
    assert world.call(service["code"], {"uscc": ENTERPRISE_A}, caller) == {"found": False}
    assert world.call(service["code"], {"uscc": ENTERPRISE_A}, caller) == {"found": False}
    bulk = _problem(world, service, caller)  # several records: refused, never passed on
    assert (bulk.status, bulk.code) == (502, "upstream_error")


def test_timeout_is_504_and_not_retried(world: World, upstream: Upstream, clock: FakeClock) -> None:
    service = _proxy_service(world, upstream.port, timeout_ms=200, retries=2)
    upstream.script = [("sleep", None)]
    problem = _problem(world, service, _caller(world, service))
    assert (problem.status, problem.code) == (504, "upstream_timeout")
    assert len(upstream.requests) == 1


def test_5xx_is_retried_then_succeeds(world: World, upstream: Upstream, clock: FakeClock) -> None:
    service = _proxy_service(world, upstream.port, retries=2)
    upstream.script = [(503, {}), (500, {})]
    answer = world.call(service["code"], {"uscc": ENTERPRISE_A}, _caller(world, service))
    assert answer["found"] is True and len(upstream.requests) == 3
    upstream.requests.clear()
    upstream.script = [(503, {})] * 3
    problem = _problem(world, service, _caller(world, service))
    assert (problem.status, problem.code) == (502, "upstream_error")
    assert len(upstream.requests) == 3  # 1 + 2 retries


def test_post_is_retried_only_when_declared_idempotent(
    world: World, upstream: Upstream, clock: FakeClock
) -> None:
    plain = _proxy_service(world, upstream.port, method="POST", path="/search", retries=2)
    upstream.script = [(503, {})]
    assert _problem(world, plain, _caller(world, plain)).code == "upstream_error"
    assert upstream.requests == ["POST /api/search"]
    declared = _proxy_service(
        world, upstream.port, method="POST", path="/search", retries=2, retry_unsafe=True
    )
    upstream.requests.clear()
    upstream.script = [(503, {})]
    assert world.call(declared["code"], {"uscc": ENTERPRISE_A}, _caller(world, declared))["found"]
    assert len(upstream.requests) == 2


def test_connect_errors_are_retried_and_502(world: World, clock: FakeClock) -> None:
    with socket.socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    service = _proxy_service(world, port, retries=1)
    problem = _problem(world, service, _caller(world, service))
    assert (problem.status, problem.code) == (502, "upstream_error")


def test_circuit_opens_after_n_failures_and_recovers_half_open(
    world: World, upstream: Upstream, clock: FakeClock
) -> None:
    service = _proxy_service(
        world, upstream.port, retries=0, breaker_failures=2, breaker_seconds=30
    )
    caller = _caller(world, service)
    upstream.default = (500, {})
    assert _problem(world, service, caller).code == "upstream_error"
    assert _problem(world, service, caller).code == "upstream_error"
    assert len(upstream.requests) == 2
    opened = _problem(world, service, caller)
    assert (opened.status, opened.code) == (503, "circuit_open")
    assert opened.headers["Retry-After"] == "30"
    assert len(upstream.requests) == 2  # open: the upstream is not called
    clock.now += 29
    assert _problem(world, service, caller).code == "circuit_open"

    clock.now += 1  # half-open: one probe, which fails → open again
    assert _problem(world, service, caller).code == "upstream_error"
    assert len(upstream.requests) == 3
    assert _problem(world, service, caller).code == "circuit_open"

    clock.now += 30  # the next probe succeeds → closed
    upstream.default = (200, RECORD)
    assert world.call(service["code"], {"uscc": ENTERPRISE_A}, caller)["found"] is True
    assert world.call(service["code"], {"uscc": ENTERPRISE_A}, caller)["found"] is True
    assert len(upstream.requests) == 5


def test_upstream_4xx_does_not_open_the_circuit(
    world: World, upstream: Upstream, clock: FakeClock
) -> None:
    service = _proxy_service(world, upstream.port, retries=0, breaker_failures=1)
    caller = _caller(world, service)
    upstream.script = [(400, {}), (403, {})]
    assert _problem(world, service, caller).code == "upstream_error"
    assert _problem(world, service, caller).code == "upstream_error"
    assert world.call(service["code"], {"uscc": ENTERPRISE_A}, caller)["found"] is True


def test_proxy_calls_are_audited(world: World, upstream: Upstream, clock: FakeClock) -> None:
    from sqlalchemy import select

    from cityos.audit.models import AuditRecord

    service = _proxy_service(world, upstream.port, retries=0, breaker_failures=1)
    caller = _caller(world, service)
    world.call(service["code"], {"uscc": ENTERPRISE_A}, caller)
    upstream.default = (500, {})
    _problem(world, service, caller)
    _problem(world, service, caller)
    with world.db.session() as session:
        details = [
            json.loads(r.detail_json)
            for r in session.scalars(
                select(AuditRecord)
                .where(AuditRecord.action == "exchange.service")
                .order_by(AuditRecord.id)
            )
        ]
    assert [(d["result"], d["rows"]) for d in details] == [
        ("ok", 1),
        ("upstream_error", 0),
        ("circuit_open", 0),
    ]
    assert details[0]["items"] == ["name", "status"] and details[0]["inputs"] == ["uscc"]
