"""For search engines: schema.org Dataset JSON-LD, /sitemap.xml and /robots.txt."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from cityos.auth.access import public
from cityos.auth.principal import ANONYMOUS, Principal
from cityos.catalog import services as catalog
from cityos.demand import services as demand
from cityos.showcase import services as showcase

router = APIRouter()

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
MEDIA_TYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}
SITEMAP_PAGE = 1000
LISTED_LIMIT = 5000


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def dataset_jsonld(
    resource: Any,
    items: list[Any],
    *,
    provider_name: str,
    base_url: str,
    formats: Iterable[str],
) -> dict[str, Any]:
    """The schema.org ``Dataset`` describing an open dataset page (a plain dict)."""
    page = f"{base_url}/open/datasets/{resource.code}"
    download = f"{base_url}/api/v1/open/datasets/{resource.code}/download"
    publisher = {"@type": "Organization", "name": provider_name}
    return {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "name": resource.name,
        "description": resource.summary or resource.name,
        "url": page,
        "identifier": resource.code,
        "keywords": list(resource.keywords or []),
        "creator": publisher,
        "publisher": publisher,
        "license": f"{base_url}/open/terms",
        "isAccessibleForFree": True,
        "inLanguage": "zh-CN",
        "dateModified": _iso(resource.updated_at),
        "datePublished": _iso(resource.published_on),
        "spatialCoverage": {"@type": "Place", "name": "海口市"},
        "distribution": [
            {
                "@type": "DataDownload",
                "encodingFormat": MEDIA_TYPES[fmt],
                "contentUrl": f"{download}.{fmt}",
            }
            for fmt in formats
        ],
        "variableMeasured": [
            {
                "@type": "PropertyValue",
                "name": item.name or item.field,
                "propertyID": item.field,
                **({"unitText": item.unit} if item.unit else {}),
            }
            for item in items
        ],
    }


def jsonld_script(data: dict[str, Any]) -> Markup:
    """JSON safe inside <script>: no ``</`` (nor ``<!--``) can close or confuse the element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(f'<script type="application/ld+json">{text}</script>')


# --------------------------------------------------------------------------- sitemap


@dataclass(frozen=True)
class SitemapEntry:
    path: str
    lastmod: date | None = None


def open_datasets(session: Session) -> list[Any]:
    """Every dataset of the open catalogue (what an anonymous visitor sees)."""
    found: list[Any] = []
    while len(found) < LISTED_LIMIT:
        page = catalog.search(
            session, ANONYMOUS, sort="code", limit=SITEMAP_PAGE, offset=len(found)
        )
        found += page.results
        if len(page.results) < SITEMAP_PAGE:
            break
    return found


def _demand_and_showcase_entries(session: Session) -> list[SitemapEntry]:
    entries = [SitemapEntry("/demands"), SitemapEntry("/showcase")]
    entries += [SitemapEntry(f"/demands/{d.id}") for d in demand.recent(session, limit=1000)]
    entries += [SitemapEntry(f"/showcase/{a.id}") for a in showcase.recent(session, limit=1000)]
    return entries


def sitemap_entries(session: Session) -> list[SitemapEntry]:
    entries = [SitemapEntry("/"), SitemapEntry("/open"), SitemapEntry("/open/datasets")]
    entries += [
        SitemapEntry(f"/open/datasets/{r.code}", r.updated_at.date() if r.updated_at else None)
        for r in open_datasets(session)
    ]
    entries.append(SitemapEntry("/open/terms"))
    return entries + _demand_and_showcase_entries(session)


def sitemap_xml(base_url: str, entries: list[SitemapEntry]) -> bytes:
    urlset = ET.Element("urlset", xmlns=SITEMAP_NS)
    for entry in entries:
        url = ET.SubElement(urlset, "url")
        ET.SubElement(url, "loc").text = base_url + entry.path
        if entry.lastmod is not None:
            ET.SubElement(url, "lastmod").text = entry.lastmod.isoformat()
    return ET.tostring(urlset, encoding="utf-8", xml_declaration=True)


def robots_txt(base_url: str) -> str:
    return "\n".join(
        [
            "User-agent: *",
            "Disallow: /console",
            "Disallow: /workbench",
            "Disallow: /api/v1/open/datasets/*/download",
            "Allow: /",
            f"Sitemap: {base_url}/sitemap.xml",
            "",
        ]
    )


def _base_url(request: Request) -> str:
    return str(request.app.state.settings.base_url).rstrip("/")


@router.get("/sitemap.xml")
def sitemap(request: Request, _: Principal = Depends(public)) -> Response:
    """The sitemap: portal pages, every open dataset (with lastmod), demands and showcase apps."""
    with request.app.state.db.session() as session:
        entries = sitemap_entries(session)
    body = sitemap_xml(_base_url(request), entries)
    return Response(body, media_type="application/xml", headers={"Cache-Control": "max-age=3600"})


@router.get("/robots.txt")
def robots(request: Request, _: Principal = Depends(public)) -> Response:
    """Crawling rules: the public portal yes; consoles, workbenches and bulk downloads no."""
    return Response(robots_txt(_base_url(request)), media_type="text/plain")
