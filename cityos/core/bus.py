"""Event bus: modules tell each other what happened without touching each other's tables.

The default bus is in-process and synchronous. ``CITYOS_BUS_URL=nats://…`` (the context issue)
swaps in NATS JetStream behind the same interface.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    topic: str
    payload: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Event], None]


class Bus(Protocol):
    def publish(self, topic: str, payload: dict[str, Any]) -> None: ...

    def subscribe(self, topic: str, handler: Handler) -> None: ...

    def close(self) -> None: ...


class InProcessBus:
    """Delivers to handlers in the publishing thread; a failing handler never breaks the writer."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self.published: int = 0

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        self.published += 1
        event = Event(topic, payload)
        for pattern, handlers in list(self._handlers.items()):
            if pattern == topic or (pattern.endswith(".*") and topic.startswith(pattern[:-1])):
                for handler in handlers:
                    try:
                        handler(event)
                    except Exception:
                        log.exception("event handler failed for %s", topic)

    def subscribe(self, topic: str, handler: Handler) -> None:
        self._handlers[topic].append(handler)

    def close(self) -> None:
        self._handlers.clear()


def make_bus(url: str) -> Bus:
    if url.startswith("memory://"):
        return InProcessBus()
    raise ValueError(f"unsupported CITYOS_BUS_URL scheme: {url.split(':', 1)[0]}")
