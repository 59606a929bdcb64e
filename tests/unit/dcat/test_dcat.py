"""DCAT-AP 3 catalogue: formats parse back, mandatory properties, visibility, negotiation."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, XSD, Namespace
from rdflib.term import Node

from tests.conftest import Actors
from tests.unit.ckan.world import World

DCAT = Namespace("http://www.w3.org/ns/dcat#")
EU = "http://publications.europa.eu/resource/authority/"
FORMATS = {
    "/catalog.ttl": ("text/turtle", "turtle"),
    "/catalog.jsonld": ("application/ld+json", "json-ld"),
    "/catalog.rdf": ("application/rdf+xml", "xml"),
}


def graph(client: TestClient, path: str = "/catalog.ttl", **headers: str) -> Graph:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    media_type, fmt = FORMATS[path]
    assert response.headers["content-type"].startswith(media_type)
    return Graph().parse(data=response.content, format=fmt)


def datasets(g: Graph) -> dict[str, URIRef]:
    """dct:identifier (resource code) → dataset node."""
    out = {}
    for node in g.subjects(RDF.type, DCAT.Dataset):
        assert isinstance(node, URIRef)
        out[str(g.value(node, DCTERMS.identifier))] = node
    return out


def has_name(g: Graph, agent: Node | None) -> bool:
    return (agent, RDF.type, FOAF.Agent) in g and g.value(agent, FOAF.name) is not None


@pytest.mark.parametrize("path", list(FORMATS))
def test_every_format_parses_and_says_the_same(client: TestClient, world: World, path: str) -> None:
    g = graph(client, path)
    reference = graph(client, "/catalog.ttl")
    assert len(g) == len(reference) > 50
    assert set(datasets(g)) == set(datasets(reference))


def test_mandatory_properties(client: TestClient, world: World) -> None:
    """A SHACL-free check of DCAT-AP 3.0.1's mandatory properties."""
    g = graph(client)
    catalogs = list(g.subjects(RDF.type, DCAT.Catalog))
    assert len(catalogs) == 1
    cat = catalogs[0]
    assert g.value(cat, DCTERMS.title) is not None
    assert g.value(cat, DCTERMS.description) is not None
    assert has_name(g, g.value(cat, DCTERMS.publisher))
    titles = {t.language: str(t) for t in g.objects(cat, DCTERMS.title) if isinstance(t, Literal)}
    assert {"zh", "en"} <= set(titles)
    assert (cat, DCTERMS.language, URIRef(EU + "language/ZHO")) in g
    assert g.value(cat, FOAF.homepage) is not None

    found = datasets(g)
    assert found
    for node in found.values():
        assert (cat, DCAT.dataset, node) in g
        assert g.value(node, DCTERMS.title) is not None
        assert g.value(node, DCTERMS.description) is not None
        assert has_name(g, g.value(node, DCTERMS.publisher))
        distributions = list(g.objects(node, DCAT.distribution))
        assert distributions
        for dist in distributions:
            assert (dist, RDF.type, DCAT.Distribution) in g
            assert isinstance(g.value(dist, DCAT.accessURL), URIRef)

    services = list(g.subjects(RDF.type, DCAT.DataService))
    assert len(services) == 2
    for service in services:
        assert (cat, DCAT.service, service) in g
        assert g.value(service, DCTERMS.title) is not None
        assert isinstance(g.value(service, DCAT.endpointURL), URIRef)
        assert str(g.value(service, DCAT.endpointDescription)).endswith("/api/v1/openapi.json")
    endpoints = {str(g.value(s, DCAT.endpointURL)) for s in services}
    assert {e.rsplit("/", 2)[-2] + "/" + e.rsplit("/", 1)[-1] for e in endpoints} == {
        "api/v1",
        "3/action",
    }


def test_a_dataset_in_detail(client: TestClient, world: World) -> None:
    g = graph(client)
    air = datasets(g)[world.codes["air"]]
    assert g.value(air, DCTERMS.title) == Literal("空气质量监测数据", lang="zh")
    assert str(g.value(air, DCTERMS.description)).startswith("全市空气质量")
    assert str(g.value(g.value(air, DCTERMS.publisher), FOAF.name)) == "市生态环境局"
    assert {str(k) for k in g.objects(air, DCAT.keyword)} == {"空气", "环境监测"}
    assert g.value(air, DCTERMS.accrualPeriodicity) == URIRef(EU + "frequency/DAILY")
    assert g.value(air, DCTERMS.accessRights) == URIRef(EU + "access-right/PUBLIC")
    modified = g.value(air, DCTERMS.modified)
    issued = g.value(air, DCTERMS.issued)
    assert isinstance(modified, Literal) and modified.datatype == XSD.dateTime
    assert isinstance(issued, Literal) and issued.datatype == XSD.date
    assert len(list(g.objects(air, DCTERMS.spatial))) == 2
    theme = g.value(air, DCAT.theme)
    assert theme is not None and str(theme).endswith("class=201001")
    assert str(g.value(air, DCAT.landingPage)).endswith(f"/catalog/{world.codes['air']}")
    dist = g.value(air, DCAT.distribution)
    rid = world.ids["air"]
    assert str(g.value(dist, DCAT.downloadURL)).endswith(f"/api/v1/datastore/{rid}/export.csv")
    assert str(g.value(dist, DCAT.accessURL)).endswith(f"/api/v1/datastore/{rid}/records")
    assert g.value(dist, DCTERMS.format) == URIRef(EU + "file-type/CSV")
    assert str(g.value(dist, DCAT.mediaType)).endswith("text/csv")
    sources = datasets(g)[world.codes["sources"]]
    assert g.value(sources, DCTERMS.accessRights) == URIRef(EU + "access-right/RESTRICTED")
    assert g.value(sources, DCTERMS.accrualPeriodicity) == URIRef(EU + "frequency/ANNUAL")
    # absolute URIs from settings.base_url
    assert str(air).startswith("http://127.0.0.1:8000/catalog/")


def test_visibility_follows_the_caller(client: TestClient, world: World, actors: Actors) -> None:
    anonymous = set(datasets(graph(client)))
    assert anonymous == {world.codes["air"], world.codes["sources"]}
    token = {"Authorization": f"Bearer {actors.token('waterman')}"}
    department = graph(client, "/catalog.jsonld", **token)
    codes = datasets(department)
    assert set(codes) == {world.codes[k] for k in ("air", "sources", "water", "ledger")}
    ledger = codes[world.codes["ledger"]]
    assert department.value(ledger, DCTERMS.accessRights) == URIRef(EU + "access-right/NON_PUBLIC")
    assert department.value(ledger, DCTERMS.accrualPeriodicity) == URIRef(
        EU + "frequency/UPDATE_CONT"
    )
    # an empty summary still gives a description (mandatory)
    assert department.value(ledger, DCTERMS.description) is not None
    # drafts are never in the catalogue, even for their provider
    provider = set(datasets(graph(client, "/catalog.rdf", **actors.headers("envoff"))))
    assert world.codes["draft"] not in provider and world.codes["ledger"] in provider
    # the anonymous graph was not replaced by a signed-in caller's (per-scope cache)
    assert set(datasets(graph(client))) == anonymous


def test_a_bad_token_is_refused(client: TestClient) -> None:
    response = client.get("/catalog.ttl", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_etag_and_not_modified(client: TestClient, world: World) -> None:
    first = client.get("/catalog.ttl")
    etag = first.headers["etag"]
    assert client.get("/catalog.ttl").headers["etag"] == etag
    again = client.get("/catalog.ttl", headers={"If-None-Match": etag})
    assert again.status_code == 304
    # rebuilt (cache expired) from unchanged data: the same bytes, so the same ETag
    client.app.state.dcat_cache.entries.clear()  # type: ignore[attr-defined]
    assert client.get("/catalog.ttl").headers["etag"] == etag


def test_content_negotiation_on_catalog(client: TestClient, world: World) -> None:
    turtle = client.get("/catalog", headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200 and turtle.headers["content-type"].startswith("text/turtle")
    assert "Accept" in turtle.headers["vary"]
    Graph().parse(data=turtle.content, format="turtle")
    jsonld = client.get("/catalog", headers={"Accept": "application/ld+json"})
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    xml = client.get("/catalog", headers={"Accept": "text/html;q=0.5, application/rdf+xml"})
    assert xml.headers["content-type"].startswith("application/rdf+xml")
    page = client.get("/catalog", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.headers["content-type"].startswith("text/html")
    assert client.get("/catalog").headers["content-type"].startswith("text/html")
