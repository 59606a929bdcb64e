"""Like Datasette: a setting or endpoint that is not documented fails the build."""

from pathlib import Path

from fastapi import FastAPI

from cityos.config import settings_fields
from cityos.routes import iter_endpoints

DOCS = Path(__file__).resolve().parents[2] / "docs"
FRAMEWORK = {"/api/v1/openapi.json"}


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = [name for name in settings_fields() if f"`{name}`" not in text]
    assert not missing, f"document these in docs/configuration.md: {missing}"


def test_every_endpoint_is_documented(app: FastAPI) -> None:
    text = (DOCS / "endpoints.md").read_text(encoding="utf-8")
    missing = sorted(
        f"{method} {e.path}"
        for e in iter_endpoints(app)
        if e.path not in FRAMEWORK
        for method in e.methods
        if method != "HEAD" and f"`{method} {e.path}`" not in text
    )
    assert not missing, "document these in docs/endpoints.md:\n" + "\n".join(missing)


def test_every_api_endpoint_says_what_it_does(app: FastAPI) -> None:
    silent = sorted(
        e.path
        for e in iter_endpoints(app)
        if e.path.startswith("/api/v1/")
        and e.path not in FRAMEWORK
        and not (e.dependant.call.__doc__ or "").strip()
    )
    assert not silent, "add a docstring (it becomes the OpenAPI description):\n" + "\n".join(silent)
