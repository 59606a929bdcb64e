"""``/catalog.ttl``, ``/catalog.jsonld``, ``/catalog.rdf`` — and ``/catalog`` by ``Accept``.

The graph holds the published resources the caller may see (anonymous: the open ones). A
serialized graph is cached per visibility scope and format for :data:`CACHE_SECONDS`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cityos.auth.access import public
from cityos.auth.principal import Principal
from cityos.dcat.mapping import Site, build_graph
from cityos.dcat.rdf import FORMATS

router = APIRouter(tags=["dcat"])
CACHE_SECONDS = 60.0
PAGE = 1000
MEDIA_TYPES = {
    "text/turtle": "ttl",
    "application/x-turtle": "ttl",
    "application/ld+json": "jsonld",
    "application/rdf+xml": "rdf",
}


@dataclass
class Rendered:
    body: bytes
    etag: str
    at: float


class GraphCache:
    """Serialized graphs by (scope, format); one build at a time."""

    def __init__(self) -> None:
        self.entries: dict[tuple[Any, ...], Rendered] = {}
        self.lock = threading.Lock()

    def get(self, key: tuple[Any, ...], build: Any) -> Rendered:
        entry = self.entries.get(key)
        if entry is not None and time.monotonic() - entry.at < CACHE_SECONDS:
            return entry
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None and time.monotonic() - entry.at < CACHE_SECONDS:
                return entry
            body: bytes = build()
            entry = Rendered(body, '"' + hashlib.sha1(body).hexdigest() + '"', time.monotonic())
            self.entries = {
                k: v for k, v in self.entries.items() if time.monotonic() - v.at < CACHE_SECONDS
            }
            self.entries[key] = entry
            return entry


def scope_of(principal: Principal) -> tuple[Any, ...]:
    """Callers who see the same resources share a cached graph."""
    if principal.sees_everything:
        return ("all",)
    return ("some", principal.is_sharing_participant, tuple(sorted(principal.org_ids)))


def _published(session: Any, principal: Principal) -> Iterator[Any]:
    from cityos.catalog import services as catalog

    offset = 0
    while True:
        page = catalog.search(
            session,
            principal,
            filters={"status": ["published"]},
            sort="code",
            limit=PAGE,
            offset=offset,
        )
        yield from page.results
        offset += len(page.results)
        if not page.results or offset >= page.total:
            return


def render_catalog(app_state: Any, principal: Principal, fmt: str) -> bytes:
    from cityos.catalog import services as catalog
    from cityos.directory import services as directory

    with app_state.db.session() as session:
        orgs = {o.id: o for o in directory.list_organisations(session)}
        classes = {c.code: c for c in catalog.list_classes(session)}
        triples = build_graph(
            Site(app_state.settings.base_url),
            _published(session, principal),
            orgs,
            classes,
            directory.bureau(session),
        )
    return FORMATS[fmt][1](triples).encode("utf-8")


def _cache(request: Request) -> GraphCache:
    cache = getattr(request.app.state, "dcat_cache", None)
    if cache is None:
        cache = request.app.state.dcat_cache = GraphCache()
    return cache


def _respond(request: Request, principal: Principal, fmt: str) -> Response:
    state = request.app.state
    key = (scope_of(principal), fmt, state.settings.base_url)
    entry = _cache(request).get(key, lambda: render_catalog(state, principal, fmt))
    headers = {"ETag": entry.etag, "Vary": "Accept, Authorization, Cookie"}
    headers["Cache-Control"] = f"private, max-age={int(CACHE_SECONDS)}"
    if request.headers.get("if-none-match") == entry.etag:
        return Response(status_code=304, headers=headers)
    return Response(entry.body, media_type=FORMATS[fmt][0], headers=headers)


@router.get("/catalog.ttl", response_class=Response)
def catalog_turtle(request: Request, principal: Principal = Depends(public)) -> Response:
    """The catalogue as DCAT-AP 3 in Turtle (the resources the caller may see)."""
    return _respond(request, principal, "ttl")


@router.get("/catalog.jsonld", response_class=Response)
def catalog_jsonld(request: Request, principal: Principal = Depends(public)) -> Response:
    """The catalogue as DCAT-AP 3 in JSON-LD (the resources the caller may see)."""
    return _respond(request, principal, "jsonld")


@router.get("/catalog.rdf", response_class=Response)
def catalog_rdfxml(request: Request, principal: Principal = Depends(public)) -> Response:
    """The catalogue as DCAT-AP 3 in RDF/XML (the resources the caller may see)."""
    return _respond(request, principal, "rdf")


def negotiate(accept: str) -> str | None:
    """The RDF format ``Accept`` prefers over HTML, or None (serve the page)."""
    best: tuple[float, int, str | None] = (0.0, 0, None)
    for index, part in enumerate(accept.split(",")):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media in MEDIA_TYPES:
            fmt: str | None = MEDIA_TYPES[media]
        elif media in ("text/html", "application/xhtml+xml"):
            fmt = None
        else:
            continue
        # higher q wins; on a tie the earlier entry, and HTML over RDF
        rank = (q, -index if fmt else 1, fmt)
        if (rank[0], rank[1]) > (best[0], best[1]):
            best = rank
    return best[2] if best[0] > 0 else None


class CatalogNegotiation:
    """ASGI middleware: ``GET /catalog`` asking for RDF is served by ``/catalog.<ext>``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/catalog" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        accept = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"accept"), "")
        fmt = negotiate(accept)
        if fmt is not None:
            path = f"/catalog.{fmt}"
            scope = {**scope, "path": path, "raw_path": path.encode()}

        async def send_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"vary"]
                headers.append((b"vary", b"Accept, Authorization, Cookie"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_vary)
