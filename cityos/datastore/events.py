"""The datastore follows the catalogue: when a resource's items change (e.g. an item is now
declared sensitive personal information), its stored table is encrypted or decrypted at once
instead of at the next load."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from cityos.core.bus import Event
from cityos.datastore import services

log = logging.getLogger(__name__)
CATALOG_TOPIC = "catalog.resource.changed"


def install(app: FastAPI) -> None:
    db = app.state.db

    def on_change(event: Event) -> None:
        if event.payload.get("action") != "update":
            return
        resource_id = str(event.payload.get("resource_id") or "")
        if not resource_id or services.table_info(db, resource_id) is None:
            return
        _none, changed = services.change_with_encryption(db, resource_id, lambda _s: None)
        if changed["encrypted"] or changed["decrypted"]:
            log.info("ds_%s encryption follows its items: %s", resource_id, changed)

    app.state.bus.subscribe(CATALOG_TOPIC, on_change)
