"""The catalogue as a DCAT-AP 3.0.1 graph.

- the platform's catalogue: ``dcat:Catalog`` at ``<base>/catalog``, published by the bureau;
- each visible resource: a ``dcat:Dataset`` (``<base>/catalog/<code>#dataset``, landing page
  ``<base>/catalog/<code>``) with one ``dcat:Distribution``, the CSV export of its datastore;
- providers: ``foaf:Agent`` (``<base>/api/v1/organisations/<id>``);
- classes: ``skos:Concept`` themes in the platform's class scheme; districts: ``dct:Location``;
- the two APIs (``/api/v1`` and the CKAN Action API): ``dcat:DataService``.

EU vocabularies: frequency (update cycle), access-right (open type), file-type and language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from cityos.core.i18n import catalog as translations
from cityos.core.i18n import lazy
from cityos.dcat.rdf import (
    DCAT,
    DCT,
    FOAF,
    IRI,
    RDF,
    SKOS,
    VCARD,
    XSD,
    Lit,
    Obj,
    Triples,
    Vocab,
    iri,
)
from cityos.directory.codes import DISTRICT_NAMES_EN, DISTRICTS

EU = "http://publications.europa.eu/resource/authority/"
FREQ = Vocab(EU + "frequency/")
ACCESS = Vocab(EU + "access-right/")
FILE_TYPE = Vocab(EU + "file-type/")
LANG = Vocab(EU + "language/")
CSV_FORMAT = FILE_TYPE.CSV
CSV_MEDIA_TYPE = iri("http://www.iana.org/assignments/media-types/text/csv")
DCAT_AP = iri("http://data.europa.eu/r5r/")
CKAN_API_DOCS = iri("https://docs.ckan.org/en/2.10/api/")

FREQUENCIES = {
    "realtime": FREQ.UPDATE_CONT,
    "daily": FREQ.DAILY,
    "weekly": FREQ.WEEKLY,
    "monthly": FREQ.MONTHLY,
    "quarterly": FREQ.QUARTERLY,
    "yearly": FREQ.ANNUAL,
    "irregular": FREQ.IRREG,
}
ACCESS_RIGHTS = {
    "unconditional": ACCESS.PUBLIC,
    "conditional": ACCESS.RESTRICTED,
    "none": ACCESS.NON_PUBLIC,
}
CATALOG_TITLE = lazy("Haikou public data resource catalogue")
CATALOG_DESCRIPTION = lazy(
    "The city's catalogue of government information and public data resources: who provides "
    "them, what they contain, and how they are shared and opened."
)
SITE_NAME = lazy("Haikou public data resource platform")
API_TITLE = lazy("CityOS JSON API")
API_DESCRIPTION = lazy("Catalogue, datastore and platform services under /api/v1 (OpenAPI).")
CKAN_TITLE = lazy("CKAN Action API v3")
CKAN_DESCRIPTION = lazy("CKAN-compatible read access to the catalogue and the datastore.")
CLASSES_TITLE = lazy("Information resource classes")


_SAFE = re.compile(r"[A-Za-z0-9._~-]+")


def _part(value: str) -> str:
    """A path or query component (codes and ids are already safe: no quoting needed)."""
    return value if _SAFE.fullmatch(value) else quote(value, safe="")


def zh(message: str) -> str:
    return translations("zh_Hans").get(message, message)


def both(message: str) -> list[Lit]:
    """A message as Chinese and English literals."""
    return [Lit(zh(message), lang="zh"), Lit(message, lang="en")]


class Site:
    """The platform's URIs, from its public base URL."""

    def __init__(self, base: str) -> None:
        self.base = str(iri(base.rstrip("/")))
        self.catalog = IRI(f"{self.base}/catalog")
        self.classes = IRI(f"{self.base}/api/v1/catalog/classes")
        self.api = IRI(f"{self.base}/api/v1")
        self.openapi = IRI(f"{self.base}/api/v1/openapi.json")
        self.ckan = IRI(f"{self.base}/api/3/action")

    def agent(self, org_id: str) -> IRI:
        return IRI(f"{self.base}/api/v1/organisations/{_part(org_id)}")

    def theme(self, class_code: str) -> IRI:
        return IRI(f"{self.base}/catalog?class={_part(class_code)}")

    def place(self, district: str) -> IRI:
        return IRI(f"{self.base}/catalog?district={_part(district)}")


def _datetime(value: datetime) -> Lit:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return Lit(value.astimezone(UTC).isoformat(timespec="seconds"), datatype=XSD.dateTime)


def _date(value: date) -> Lit:
    return Lit(value.isoformat(), datatype=XSD.date)


class CatalogGraph:
    """Builds the graph; agents, themes and places are added once however often they are used."""

    def __init__(self, site: Site, orgs: dict[str, Any], classes: dict[str, Any]) -> None:
        self.site = site
        self.orgs = orgs
        self.classes = classes
        self.t = Triples()
        self._agents: set[str] = set()
        self._themes: set[str] = set()
        self._places: set[str] = set()
        self._contacts: set[str] = set()
        self.latest: datetime | None = None
        self.datasets: list[IRI] = []

    # -- shared nodes

    def agent(self, org_id: str) -> IRI:
        node = self.site.agent(org_id)
        if org_id not in self._agents:
            self._agents.add(org_id)
            org = self.orgs.get(org_id)
            add = self.t.add
            add(node, RDF.type, FOAF.Agent)
            add(node, FOAF.name, Lit(org.name if org else org_id, lang="zh"))
            if org is not None:
                add(node, DCT.identifier, Lit(org.uscc))
                if org.short_name:
                    add(node, FOAF.nick, Lit(org.short_name, lang="zh"))
        return node

    def theme(self, code: str) -> IRI:
        node = self.site.theme(code)
        if code not in self._themes:
            self._themes.add(code)
            cls = self.classes.get(code)
            add = self.t.add
            add(node, RDF.type, SKOS.Concept)
            add(node, SKOS.notation, Lit(code))
            add(node, SKOS.inScheme, self.site.classes)
            add(node, SKOS.prefLabel, Lit(cls.name if cls else code, lang="zh"))
            if cls is not None and cls.name_en:
                add(node, SKOS.prefLabel, Lit(cls.name_en, lang="en"))
        return node

    def place(self, district: str) -> IRI:
        node = self.site.place(district)
        if district not in self._places:
            self._places.add(district)
            add = self.t.add
            add(node, RDF.type, DCT.Location)
            add(node, DCT.identifier, Lit(district))
            add(node, SKOS.prefLabel, Lit(DISTRICTS.get(district, district), lang="zh"))
            if district in DISTRICT_NAMES_EN:
                add(node, SKOS.prefLabel, Lit(DISTRICT_NAMES_EN[district], lang="en"))
        return node

    # -- catalogue, services, datasets

    def catalog(self, bureau: Any | None) -> None:
        add, site, node = self.t.add, self.site, self.site.catalog
        add(node, RDF.type, DCAT.Catalog)
        for lit in both(CATALOG_TITLE):
            add(node, DCT.title, lit)
        for lit in both(CATALOG_DESCRIPTION):
            add(node, DCT.description, lit)
        if bureau is not None:
            publisher = self.agent(bureau.id)
        else:
            publisher = iri(f"{site.base}/#publisher")
            add(publisher, RDF.type, FOAF.Agent)
            for lit in both(SITE_NAME):
                add(publisher, FOAF.name, lit)
        add(node, DCT.publisher, publisher)
        add(node, DCT.language, LANG.ZHO)
        add(node, DCT.language, LANG.ENG)
        add(node, FOAF.homepage, iri(f"{site.base}/"))
        add(node, DCT.conformsTo, DCAT_AP)
        add(node, DCAT.themeTaxonomy, site.classes)
        add(site.classes, RDF.type, SKOS.ConceptScheme)
        for lit in both(CLASSES_TITLE):
            add(site.classes, DCT.title, lit)
        for service, title, description, conforms in (
            (site.api, API_TITLE, API_DESCRIPTION, None),
            (site.ckan, CKAN_TITLE, CKAN_DESCRIPTION, CKAN_API_DOCS),
        ):
            add(node, DCAT.service, service)
            add(service, RDF.type, DCAT.DataService)
            for lit in both(title):
                add(service, DCT.title, lit)
            for lit in both(description):
                add(service, DCT.description, lit)
            add(service, DCAT.endpointURL, service)
            add(service, DCAT.endpointDescription, site.openapi)
            add(service, DCT.publisher, publisher)
            if conforms is not None:
                add(service, DCT.conformsTo, conforms)

    def dataset(self, r: Any) -> None:
        """One dataset and its distribution (the hot path: pairs are appended directly)."""
        site = self.site
        code, rid = _part(r.code), _part(r.id)
        node = IRI(f"{site.base}/catalog/{code}#dataset")
        dist = IRI(f"{site.base}/catalog/{code}#csv")
        self.datasets.append(node)
        self.t.add(site.catalog, DCAT.dataset, node)
        if self.latest is None or r.updated_at > self.latest:
            self.latest = r.updated_at
        modified = _datetime(r.updated_at)
        access = ACCESS_RIGHTS.get(r.open_type)
        pairs: list[tuple[str, Obj]] = [
            (RDF.type, DCAT.Dataset),
            (DCT.title, Lit(r.name, "zh")),
        ]
        a = pairs.append
        name_en = getattr(r, "name_en", "") or ""
        if name_en:
            a((DCT.title, Lit(name_en, "en")))
        a((DCT.description, Lit(r.summary or r.name, "zh")))
        a((DCT.identifier, Lit(r.code)))
        a((DCAT.landingPage, IRI(f"{site.base}/catalog/{code}")))
        a((DCT.publisher, self.agent(r.provider_id)))
        a((DCAT.theme, self.theme(r.class_code)))
        for keyword in r.keywords or []:
            a((DCAT.keyword, Lit(keyword, "zh")))
        for district in r.districts or []:
            a((DCT.spatial, self.place(district)))
        if r.update_cycle in FREQUENCIES:
            a((DCT.accrualPeriodicity, FREQUENCIES[r.update_cycle]))
        if access is not None:
            a((DCT.accessRights, access))
        a((DCT.modified, modified))
        if r.published_on is not None:
            a((DCT.issued, _date(r.published_on)))
        org = self.orgs.get(r.provider_id)
        if org is not None:
            a((DCAT.contactPoint, self.contact(org)))
        a((DCAT.distribution, dist))
        self.t.subjects[node] = pairs
        api = f"{site.base}/api/v1/datastore/{rid}"
        dist_pairs: list[tuple[str, Obj]] = [
            (RDF.type, DCAT.Distribution),
            (DCT.title, Lit(f"{r.name} (CSV)", "zh")),
            (DCAT.accessURL, IRI(f"{api}/records")),
            (DCAT.downloadURL, IRI(f"{api}/export.csv")),
            (DCAT.accessService, site.api),
            (DCT.format, CSV_FORMAT),
            (DCAT.mediaType, CSV_MEDIA_TYPE),
            (DCT.modified, modified),
        ]
        if access is not None:
            dist_pairs.append((DCT.accessRights, access))
        self.t.subjects[dist] = dist_pairs

    def contact(self, org: Any) -> IRI:
        node = IRI(f"{self.site.agent(org.id)}#contact")
        if org.id not in self._contacts:
            self._contacts.add(org.id)
            add = self.t.add
            add(node, RDF.type, VCARD.Organization)
            add(node, VCARD.fn, Lit(org.name, lang="zh"))
            if "@" in (org.contact or ""):
                add(node, VCARD.hasEmail, iri(f"mailto:{org.contact.strip()}"))
        return node

    def serves(self) -> None:
        """The APIs serve every dataset of the catalogue."""
        for service in (self.site.api, self.site.ckan):
            for node in self.datasets:
                self.t.add(service, DCAT.servesDataset, node)


def build_graph(
    site: Site,
    resources: Iterable[Any],
    orgs: dict[str, Any],
    classes: dict[str, Any],
    bureau: Any | None,
) -> Triples:
    builder = CatalogGraph(site, orgs, classes)
    builder.catalog(bureau)
    for resource in resources:
        builder.dataset(resource)
    builder.serves()
    # the catalogue changed when its latest dataset did (stable output, stable ETag)
    builder.t.add(site.catalog, DCT.modified, _datetime(builder.latest or datetime.now(UTC)))
    return builder.t
