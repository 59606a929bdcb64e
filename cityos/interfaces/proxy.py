"""Proxy services: call a department's own HTTP API with a timeout, retries and a circuit breaker.

Retries: only after a connect error (including a connect timeout) or a 5xx answer, and only for
GET unless the service declares its POST idempotent (``retry_unsafe``); a read timeout is never
retried (the upstream may still be working on it). Each call that ends in a timeout, a connect
error, a 5xx or an unreadable answer is one failure of the circuit breaker; after
``breaker_failures`` failures in a row it opens for ``breaker_seconds`` (calls answer 503
``circuit_open`` at once), then lets one probe through (half-open): success closes it, failure
opens it again. Breakers live in the process (each worker has its own).

Answers: a JSON object (or a list of at most one) is cut down to the declared outputs; 404 or an
empty list means ``{"found": false}``. Redirects are not followed; bodies over 1 MiB are refused.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from cityos.core.errors import ProblemError
from cityos.interfaces.engine import Outcome
from cityos.interfaces.models import InterfaceService
from cityos.interfaces.services import PLACEHOLDER

MAX_BODY = 1024 * 1024
BACKOFF_SECONDS = 0.05  # before retry n: n × this


class UpstreamTimeout(Exception):
    pass


class UpstreamFailure(Exception):
    """Counts against the breaker: connect errors, 5xx, unreadable answers."""


class UpstreamRefused(Exception):
    """The upstream answered, but not with one record (4xx, redirect, several rows)."""


# --------------------------------------------------------------------------- circuit breaker


class CircuitBreaker:
    def __init__(self, failures: int, seconds: float, clock: Callable[[], float]) -> None:
        self.threshold = failures
        self.seconds = seconds
        self.clock = clock
        self.state = "closed"  # closed | open | half_open
        self.failures = 0
        self.opened_at = 0.0
        self._lock = threading.Lock()

    def allow(self) -> bool:
        """Whether a call may go upstream now (in half-open state: the one probe)."""
        with self._lock:
            if self.state == "closed":
                return True
            if self.state == "open" and self.clock() - self.opened_at >= self.seconds:
                self.state = "half_open"  # this caller is the probe
                return True
            return False

    def retry_after(self) -> int:
        with self._lock:
            left = self.seconds - (self.clock() - self.opened_at)
        return max(1, int(left + 0.999))

    def success(self) -> None:
        with self._lock:
            self.state = "closed"
            self.failures = 0

    def failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self.state == "half_open" or self.failures >= self.threshold:
                self.state = "open"
                self.opened_at = self.clock()


@dataclass
class ProxyRuntime:
    """Per app: the breakers of the proxy services and the HTTP client they share."""

    clock: Callable[[], float] = time.monotonic
    transport: httpx.BaseTransport | None = None  # tests may give a MockTransport
    sleep: Callable[[float], None] = time.sleep
    _breakers: dict[tuple[str, int, int, int], CircuitBreaker] = field(default_factory=dict)
    _client: httpx.Client | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def breaker(self, service: InterfaceService) -> CircuitBreaker:
        failures = int(service.spec.get("breaker_failures", 5))
        seconds = int(service.spec.get("breaker_seconds", 30))
        key = (service.id, service.version, failures, seconds)
        with self._lock:
            found = self._breakers.get(key)
            if found is None:
                found = CircuitBreaker(failures, seconds, self.clock)
                self._breakers[key] = found
            return found

    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    transport=self.transport, follow_redirects=False, trust_env=False
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def runtime_of(state: Any) -> ProxyRuntime:
    """The app's runtime (``app.state.interface_proxy``), created on first use."""
    runtime = getattr(state, "interface_proxy", None)
    if runtime is None:
        runtime = ProxyRuntime()
        state.interface_proxy = runtime
    return runtime


# --------------------------------------------------------------------------- one call


def _request_parts(spec: dict[str, Any], values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    used = set(PLACEHOLDER.findall(spec["path"]))
    path = PLACEHOLDER.sub(lambda m: quote(str(values.get(m.group(1), "")), safe=""), spec["path"])
    rest = {k: v for k, v in values.items() if k not in used}
    return spec["base_url"] + path, rest


def _read(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_BODY:
            raise UpstreamRefused("body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def fetch(runtime: ProxyRuntime, spec: dict[str, Any], values: dict[str, Any]) -> tuple[int, bytes]:
    """(status, body) of the upstream's answer, after the retries the spec allows."""
    url, rest = _request_parts(spec, values)
    method = spec.get("method", "GET")
    retryable = method == "GET" or bool(spec.get("retry_unsafe"))
    attempts = 1 + (int(spec.get("retries", 2)) if retryable else 0)
    timeout = httpx.Timeout(int(spec.get("timeout_ms", 3000)) / 1000)
    kwargs: dict[str, Any] = {"params": rest} if method == "GET" else {"json": rest}
    client = runtime.client()
    last: Exception = UpstreamFailure("no attempt")
    for attempt in range(attempts):
        if attempt:
            runtime.sleep(BACKOFF_SECONDS * attempt)
        try:
            with client.stream(method, url, timeout=timeout, **kwargs) as response:
                if response.status_code >= 500:
                    last = UpstreamFailure(f"status {response.status_code}")
                    continue
                return response.status_code, _read(response)
        except httpx.ConnectTimeout as exc:
            last = UpstreamTimeout(str(exc))
        except httpx.ConnectError as exc:
            last = UpstreamFailure(str(exc))
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout(str(exc)) from exc
        except httpx.HTTPError as exc:
            raise UpstreamFailure(str(exc)) from exc
    raise last


def shape(service: InterfaceService, status: int, body: bytes) -> Outcome:
    """The declared outputs of the one record in the answer."""
    outputs = [o["name"] for o in service.outputs]
    if status == 404:
        return Outcome({"found": False})
    if not 200 <= status < 300:
        raise UpstreamRefused(f"status {status}")
    try:
        data = json.loads(body or b"null")
    except ValueError as exc:
        raise UpstreamFailure("not JSON") from exc
    if isinstance(data, list):
        if not data:
            return Outcome({"found": False})
        if len(data) > 1:
            raise UpstreamRefused("several records")
        data = data[0]
    if not isinstance(data, dict):
        raise UpstreamFailure("not an object")
    values = {n: v if not isinstance(v, dict | list) else None for n, v in _pick(data, outputs)}
    return Outcome({"found": True, **values}, outputs, [], 1)


def _pick(data: dict[str, Any], names: list[str]) -> list[tuple[str, Any]]:
    return [(n, data.get(n)) for n in names]


def run_proxy(runtime: ProxyRuntime, service: InterfaceService, values: dict[str, Any]) -> Outcome:
    breaker = runtime.breaker(service)
    if not breaker.allow():
        raise ProblemError(
            503,
            "circuit_open",
            "The department's service is failing; calls are paused. Try again later.",
            headers={"Retry-After": str(breaker.retry_after())},
        )
    healthy = False
    try:
        status, body = fetch(runtime, service.spec, values)
        outcome = shape(service, status, body)
        healthy = True
        return outcome
    except UpstreamTimeout:
        raise ProblemError(
            504, "upstream_timeout", "The department's service did not answer in time."
        ) from None
    except UpstreamRefused:
        healthy = True  # it answered: not a failure of the upstream
        raise ProblemError(
            502, "upstream_error", "The department's service gave an answer that cannot be used."
        ) from None
    except UpstreamFailure:
        raise ProblemError(
            502, "upstream_error", "The department's service could not be reached or failed."
        ) from None
    finally:
        if healthy:
            breaker.success()
        else:
            breaker.failure()
