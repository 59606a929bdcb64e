"""Wiring into the app: keyrings for this database, and the background tree-head signer."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from cityos.audit import signing
from cityos.audit.log import sign_tree_head
from cityos.crypto import envelope

log = logging.getLogger(__name__)


def install(app: FastAPI) -> None:
    """Configure keys for ``app.state.db`` and sign a tree head every audit_sth_interval s."""
    settings = app.state.settings
    engine = app.state.db.engine
    envelope.configure(engine, settings)
    signing.configure(engine, settings)
    interval = int(settings.audit_sth_interval)
    if interval <= 0:
        return
    holder: dict[str, asyncio.Task[None]] = {}

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(sign_tree_head, app.state.db)
            except Exception:  # keep signing later; the failure is in the log
                log.exception("could not sign an audit tree head")

    async def start() -> None:
        holder["task"] = asyncio.create_task(loop(), name="cityos-audit-sth")

    async def stop() -> None:
        task = holder.pop("task", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.router.on_startup.append(start)
    app.router.on_shutdown.append(stop)
