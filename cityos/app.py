"""The application factory: one process serves pages, JSON APIs and standard interfaces."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from cityos import __version__
from cityos.audit.tasks import install as install_audit
from cityos.config import Settings
from cityos.core.bus import make_bus
from cityos.core.db import Database
from cityos.core.errors import install_error_handlers
from cityos.core.web import STATIC_DIR, LocaleMiddleware, make_templates, render_problem_page
from cityos.crypto.envelope import configure as configure_keyring
from cityos.routes import include_routes

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    settings = settings or Settings()
    settings.ensure_data_dir()
    url = settings.resolved_database_url
    if migrate:
        from cityos.core.migrate import upgrade

        upgrade(url)
    app = FastAPI(
        title="CityOS API",
        version=__version__,
        description="城市操作系统 API — CityOS public data resource platform.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = Database(url, sqlite_synchronous=settings.sqlite_synchronous)
    configure_keyring(app.state.db.engine, settings)  # master key of the envelope encryption
    app.state.bus = make_bus(settings.bus_url)
    app.state.templates = make_templates()

    install_error_handlers(app, render_page=render_problem_page)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie="cityos_session",
        same_site="lax",
        https_only=settings.base_url.startswith("https"),
        max_age=8 * 3600,
    )
    app.add_middleware(LocaleMiddleware, default=settings.default_locale)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    include_routes(app)
    _mount_api_docs(app)
    install_audit(app)

    @app.on_event("shutdown")
    def _close() -> None:
        app.state.bus.close()
        app.state.db.dispose()

    return app


def _mount_api_docs(app: FastAPI) -> None:
    """Swagger UI from our own npm-installed assets (no CDN)."""
    from fastapi import Depends
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse

    from cityos.auth.access import public

    @app.get("/api/v1/docs", include_in_schema=False, dependencies=[Depends(public)])
    def api_docs() -> HTMLResponse:
        """Interactive API documentation (Swagger UI, served locally)."""
        return get_swagger_ui_html(
            openapi_url="/api/v1/openapi.json",
            title="CityOS API 文档",
            swagger_js_url="/static/vendor/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )
