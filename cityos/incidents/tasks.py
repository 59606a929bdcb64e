"""Wiring into the app: the background incident detector (every incident_detect_interval s)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from cityos.incidents.detection import detect
from cityos.incidents.rules import Config

log = logging.getLogger(__name__)


def install(app: FastAPI) -> None:
    """Run the detector over new audit records every ``incident_detect_interval`` seconds."""
    settings = app.state.settings
    interval = int(settings.incident_detect_interval)
    if interval <= 0:
        return
    config = Config.from_settings(settings)
    holder: dict[str, asyncio.Task[None]] = {}

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(detect, app.state.db, None, config)
            except Exception:  # keep detecting later; the failure is in the log
                log.exception("the incident detector failed")

    async def start() -> None:
        holder["task"] = asyncio.create_task(loop(), name="cityos-incident-detector")

    async def stop() -> None:
        task = holder.pop("task", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.router.on_startup.append(start)
    app.router.on_shutdown.append(stop)
