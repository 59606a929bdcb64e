"""Wiring into the app: the background deadline check of share requests."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from cityos.sharing.deadlines import run_deadlines

log = logging.getLogger(__name__)


def run_once(app: FastAPI) -> None:
    settings = app.state.settings
    report = run_deadlines(
        app.state.db, reminder_days=int(settings.share_reminder_days), bus=app.state.bus
    )
    if report.reminded or report.escalated:
        log.info("share requests reminded %s, escalated %s", report.reminded, report.escalated)


def install(app: FastAPI) -> None:
    """Check the deadlines every CITYOS_SHARE_DEADLINE_INTERVAL seconds (0: never)."""
    interval = int(app.state.settings.share_deadline_interval)
    if interval <= 0:
        return
    holder: dict[str, asyncio.Task[None]] = {}

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(run_once, app)
            except Exception:  # try again next time; the failure is in the log
                log.exception("share request deadline check failed")

    async def start() -> None:
        holder["task"] = asyncio.create_task(loop(), name="cityos-sharing-deadlines")

    async def stop() -> None:
        task = holder.pop("task", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.router.on_startup.append(start)
    app.router.on_shutdown.append(stop)
