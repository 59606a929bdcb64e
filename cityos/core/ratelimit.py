"""Rate limits.

Token buckets per authorization code / API key (``LocalLimiter``, ``RedisLimiter``), and a
sliding window of events per client address for forms people should not repeat too often
(``SlidingWindow``: registrations, demands).

Per-code rate limits: a token bucket per authorization code.

A code allowed ``N`` calls per minute has a bucket of ``N`` tokens refilled at ``N / 60`` per
second; a call takes one token, and without one it is refused with 429 ``rate_limited`` and a
``Retry-After`` of the seconds until the next token.

By default each process keeps its own buckets (``LocalLimiter``): with several web worker
processes a code may get up to workers × N calls per minute. ``CITYOS_REDIS_URL`` makes the
buckets shared by every process (``RedisLimiter``: one atomic Lua script per call).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
import weakref
from collections import deque
from typing import Protocol
from urllib.parse import urlparse

# KEYS[1] bucket; ARGV: capacity, refill per second, now (s) → {allowed, retry_after_ms}
BUCKET_LUA = """
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local tokens = tonumber(b[1]) or cap
local at = tonumber(b[2]) or now
tokens = math.min(cap, tokens + math.max(0, now - at) * rate)
local ok = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  ok = 1
else
  wait = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(cap / rate * 1000) + 1000)
return {ok, wait}
"""


class Limiter(Protocol):
    async def take(self, key: str, per_minute: int) -> float:
        """0 when the call may go on, else the seconds to wait."""
        ...

    def close(self) -> None: ...


class LocalLimiter:
    """Token buckets in this process."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, at)
        self._lock = threading.Lock()

    def take_now(self, key: str, per_minute: int, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        capacity = float(per_minute)
        rate = per_minute / 60.0
        with self._lock:
            tokens, at = self._buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + max(0.0, now - at) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate

    async def take(self, key: str, per_minute: int) -> float:
        return self.take_now(key, per_minute)

    def close(self) -> None:
        self._buckets.clear()


class RedisLimiter:
    """Token buckets in Redis, shared by every process (a minimal RESP client, no dependency)."""

    def __init__(self, url: str, prefix: str = "cityos:exchange:rl:") -> None:
        parsed = urlparse(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 6379
        self.db = int((parsed.path or "/0").strip("/") or 0)
        self.password = parsed.password
        self.prefix = prefix
        self._sha: str | None = None
        self._conns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Resp] = (
            weakref.WeakKeyDictionary()
        )

    async def _conn(self) -> _Resp:
        loop = asyncio.get_running_loop()
        conn = self._conns.get(loop)
        if conn is None or conn.closed:
            conn = _Resp()
            await conn.open(self.host, self.port)
            if self.password:
                await conn.call("AUTH", self.password)
            if self.db:
                await conn.call("SELECT", str(self.db))
            self._conns[loop] = conn
        return conn

    async def take(self, key: str, per_minute: int) -> float:
        conn = await self._conn()
        if self._sha is None:
            self._sha = str(await conn.call("SCRIPT", "LOAD", BUCKET_LUA))
        args = (str(per_minute), repr(per_minute / 60.0), repr(time.time()))
        try:
            reply = await conn.call("EVALSHA", self._sha, "1", self.prefix + key, *args)
        except RedisError as exc:
            if "NOSCRIPT" not in str(exc):
                raise
            reply = await conn.call("EVAL", BUCKET_LUA, "1", self.prefix + key, *args)
        assert isinstance(reply, list)
        ok, wait_ms = int(reply[0]), int(reply[1])
        return 0.0 if ok else max(wait_ms / 1000.0, 0.001)

    def close(self) -> None:
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()


class RedisError(Exception):
    pass


class _Resp:
    """One connection speaking RESP2; calls are serialised by a lock."""

    def __init__(self) -> None:
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.lock = asyncio.Lock()
        self.closed = False

    async def open(self, host: str, port: int) -> None:
        self.reader, self.writer = await asyncio.open_connection(host, port)

    def close(self) -> None:
        self.closed = True
        if self.writer is not None:
            self.writer.close()

    async def call(self, *args: str) -> object:
        assert self.reader is not None and self.writer is not None
        parts = [f"*{len(args)}\r\n".encode()]
        for arg in args:
            data = arg.encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
        async with self.lock:
            try:
                self.writer.write(b"".join(parts))
                await self.writer.drain()
                return await self._read()
            except (OSError, asyncio.IncompleteReadError):
                self.close()
                raise

    async def _read(self) -> object:
        assert self.reader is not None
        line = (await self.reader.readuntil(b"\r\n"))[:-2]
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            return (await self.reader.readexactly(n + 2))[:-2].decode()
        if kind == b"*":
            n = int(rest)
            return [await self._read() for _ in range(max(n, 0))]
        raise RedisError(f"unexpected reply {line[:20]!r}")


def make_limiter(redis_url: str | None) -> Limiter:
    return RedisLimiter(redis_url) if redis_url else LocalLimiter()


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


class SlidingWindow:
    """At most ``limit`` events per key within the last ``window`` seconds (this process)."""

    def __init__(self, limit: int, window: float = 3600.0) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, key: str, now: float | None = None) -> float:
        """0 when one more event is allowed, else the seconds until the oldest one leaves."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return self._wait_locked(key, now)

    def hit(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._events.setdefault(key, deque()).append(now)

    def take(self, key: str, now: float | None = None) -> float:
        """``wait``, counting the event when it is allowed."""
        now = time.monotonic() if now is None else now
        with self._lock:
            wait = self._wait_locked(key, now)
            if wait == 0.0:
                self._events.setdefault(key, deque()).append(now)
            return wait

    def _wait_locked(self, key: str, now: float) -> float:
        events = self._events.get(key)
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events or len(events) < self.limit:
            return 0.0
        return events[0] + self.window - now
