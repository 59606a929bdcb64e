"""ASGI entry point for multi-worker serving: settings come from CITYOS_* variables."""

from cityos.app import create_app

app = create_app(migrate=False)
