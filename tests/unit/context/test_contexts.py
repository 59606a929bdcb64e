"""NGSI-LD @context handling, checked against PyLD on every Smart Data Models example."""

from __future__ import annotations

import copy
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld

from cityos.context.contexts import (
    CORE_CONTEXT_URL,
    KNOWN_CONTEXTS,
    ContextNotAvailable,
    ContextRegistry,
    InvalidContext,
    compact_entity,
    compact_iri,
    expand_entity,
    expand_term,
)

DATA = Path(__file__).parent / "data"
EXAMPLES = sorted(DATA.glob("*.example-normalized.jsonld"))
NGSI = "https://uri.etsi.org/ngsi-ld/"
DEFAULT = NGSI + "default-context/"
DATA_INTEGRITY = "https://w3id.org/security/data-integrity/v2"
UNKNOWN = "https://example.invalid/unknown-context.jsonld"


@pytest.fixture(scope="module")
def registry() -> ContextRegistry:
    return ContextRegistry()


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _pyld_expand(entity: dict[str, Any], registry: ContextRegistry) -> dict[str, Any]:
    def loader(url: str, options: dict[str, Any]) -> dict[str, Any]:
        # The core context's ngsildproof term has a scoped context that PyLD checks eagerly;
        # no example uses that term, so an empty stand-in keeps PyLD off the network.
        document = {"@context": {}} if url == DATA_INTEGRITY else registry.document(url)
        return {"contextUrl": None, "documentUrl": url, "document": document}

    user = entity.get("@context", [])
    document = dict(
        entity, **{"@context": [*(user if isinstance(user, list) else [user]), CORE_CONTEXT_URL]}
    )
    [node] = jsonld.expand(document, {"documentLoader": loader})
    return node


def _pyld_shape(node: dict[str, Any]) -> dict[str, Any]:
    attributes = {}
    for key, instances in node.items():
        if key.startswith("@"):
            continue
        attributes[key] = sorted(
            (sorted(k for k in inst if not k.startswith("@")), sorted(inst.get("@type", [])))
            for inst in instances
        )
    return {"types": sorted(node["@type"]), "attributes": attributes}


def _our_shape(expanded: dict[str, Any], registry: ContextRegistry, ctx: Any) -> dict[str, Any]:
    types = expanded["type"]
    attributes = {}
    for key, value in expanded.items():
        if key in ("id", "type"):
            continue
        instances = value if isinstance(value, list) else [value]
        attributes[key] = sorted(
            (
                sorted(expand_term(k, ctx) if ":" not in k else k for k in inst if k != "type"),
                [expand_term(inst["type"], ctx)],
            )
            for inst in instances
        )
    return {
        "types": sorted(types if isinstance(types, list) else [types]),
        "attributes": attributes,
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name.split(".")[0])
def test_expansion_matches_pyld(path: Path, registry: ContextRegistry) -> None:
    entity = _load(path)
    ctx = registry.process(entity["@context"])
    ours = _our_shape(expand_entity(entity, ctx), registry, ctx)
    theirs = _pyld_shape(_pyld_expand(entity, registry))
    assert ours == theirs
    assert all(iri.startswith(("http://", "https://")) for iri in ours["attributes"])


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name.split(".")[0])
def test_compaction_round_trips(path: Path, registry: ContextRegistry) -> None:
    entity = _load(path)
    ctx = registry.process(entity.pop("@context"))
    expanded = expand_entity(entity, ctx)
    assert set(expanded) != set(entity)
    assert compact_entity(expanded, ctx) == entity


def test_every_example_context_is_shipped() -> None:
    for path in EXAMPLES:
        assert set(_load(path)["@context"]) <= set(KNOWN_CONTEXTS)


def test_unknown_remote_context_fails_fast_without_network(
    registry: ContextRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network used")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    with pytest.raises(ContextNotAvailable) as raised:
        registry.process([CORE_CONTEXT_URL, UNKNOWN])
    assert raised.value.url == UNKNOWN
    with pytest.raises(ContextNotAvailable):
        registry.process({"@import": UNKNOWN, "a": "http://example.org/a"})


def test_core_terms_cannot_be_overridden(registry: ContextRegistry) -> None:
    ctx = registry.process(
        {
            "location": "http://example.org/where",
            "value": "http://example.org/v",
            "mine": "http://example.org/mine",
        }
    )
    assert expand_term("location", ctx) == NGSI + "location"
    assert expand_term("value", ctx) == NGSI + "hasValue"
    assert expand_term("id", ctx) == "@id"
    assert expand_term("mine", ctx) == "http://example.org/mine"
    assert ctx.vocab == DEFAULT


def test_inline_object_with_prefixes_coercion_and_aliases(registry: ContextRegistry) -> None:
    ctx = registry.process(
        {
            "when": {"@id": "ex:when", "@type": "ex:Date"},
            "ex": "http://example.org/",
            "identifier": "@id",
            "refThing": {"@id": "ex:refThing", "@type": "@id"},
        }
    )
    assert expand_term("when", ctx) == "http://example.org/when"
    assert ctx.terms["when"].type == "http://example.org/Date"
    assert ctx.terms["refThing"].type == "@id"
    assert ctx.terms["observedAt"].type == NGSI + "DateTime"
    assert expand_term("identifier", ctx) == "@id"
    assert expand_term("ex:other", ctx) == "http://example.org/other"
    assert expand_term("urn:x:y", ctx) == "urn:x:y"
    assert expand_term("brandNew", ctx) == DEFAULT + "brandNew"
    assert compact_iri("http://example.org/other", ctx) == "ex:other"
    assert compact_iri("http://example.org/when", ctx) == "when"
    assert compact_iri(DEFAULT + "brandNew", ctx) == "brandNew"
    assert compact_iri(NGSI + "somethingElse", ctx) == "ngsi-ld:somethingElse"
    assert compact_iri("http://elsewhere.org/x", ctx) == "http://elsewhere.org/x"


def test_list_of_remote_and_inline_contexts(registry: ContextRegistry) -> None:
    environment = "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld"
    ctx = registry.process([environment, {"extra": "http://example.org/extra"}])
    sdm = "https://smartdatamodels.org/dataModel.Environment/"
    assert expand_term("AirQualityObserved", ctx) == sdm + "AirQualityObserved"
    assert expand_term("extra", ctx) == "http://example.org/extra"
    later = registry.process([{"AirQualityObserved": "http://example.org/Other"}, environment])
    assert expand_term("AirQualityObserved", later) == sdm + "AirQualityObserved"


def test_cache_hit_returns_the_same_processed_object(registry: ContextRegistry) -> None:
    first = registry.process({"a": "http://example.org/a", "b": "http://example.org/b"})
    again = registry.process({"b": "http://example.org/b", "a": "http://example.org/a"})
    assert again is first
    assert registry.process(CORE_CONTEXT_URL) is registry.process(CORE_CONTEXT_URL)
    assert registry.process(None) is registry.core
    assert registry.process({"a": "http://example.org/other"}) is not first


def test_added_context_is_served_and_clears_the_cache() -> None:
    registry = ContextRegistry()
    url = "https://example.org/my-context.jsonld"
    with pytest.raises(ContextNotAvailable):
        registry.process(url)
    registry.add(url, {"@context": {"speed": "http://example.org/speed"}})
    assert expand_term("speed", registry.process(url)) == "http://example.org/speed"
    assert url in registry.urls()
    registry.add(url, {"@context": {"speed": "http://example.org/velocity"}})
    assert expand_term("speed", registry.process(url)) == "http://example.org/velocity"
    with pytest.raises(ContextNotAvailable):
        registry.add("https://example.org/bad.jsonld", {"@context": UNKNOWN})
    assert "https://example.org/bad.jsonld" not in registry.urls()
    registry.remove(url)
    with pytest.raises(ContextNotAvailable):
        registry.process(url)


@pytest.mark.parametrize(
    "context",
    [42, {"a": "b:x", "b": "a:y"}, {"noIri": {"@type": "@id"}}, [{"t": ["x"]}]],
)
def test_invalid_contexts_are_rejected(context: Any) -> None:
    registry = ContextRegistry()
    with pytest.raises(InvalidContext):
        registry.process(context)


def test_recursive_inclusion_is_rejected() -> None:
    registry = ContextRegistry()
    with pytest.raises(InvalidContext):
        registry.add("https://example.org/loop", {"@context": "https://example.org/loop"})
    with pytest.raises(InvalidContext):
        registry.add("https://example.org/doc", {"no": "context"})


def test_sub_attributes_and_multi_attributes(registry: ContextRegistry) -> None:
    ctx = registry.process({"ex": "http://example.org/", "speed": "ex:speed"})
    entity = {
        "id": "urn:ngsi-ld:Vehicle:1",
        "type": ["Vehicle", "ex:Car"],
        "speed": [
            {
                "type": "Property",
                "value": 3,
                "datasetId": "urn:a",
                "accuracy": {"type": "Property", "value": 0.1},
            },
            {"type": "Property", "value": 4, "observedAt": "2026-01-01T00:00:00Z"},
        ],
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [110.3, 20.0]},
        },
        "@context": {"ex": "http://example.org/"},
    }
    expanded = expand_entity(copy.deepcopy(entity), ctx)
    assert expanded["type"] == [DEFAULT + "Vehicle", "http://example.org/Car"]
    first, second = expanded["http://example.org/speed"]
    assert first[DEFAULT + "accuracy"] == {"type": "Property", "value": 0.1}
    assert first["datasetId"] == "urn:a" and second["observedAt"] == "2026-01-01T00:00:00Z"
    assert expanded[NGSI + "location"]["value"]["type"] == "Point"
    assert "@context" not in expanded
    del entity["@context"]
    compacted = compact_entity(expanded, ctx)
    assert compacted["type"] == ["Vehicle", "ex:Car"]
    assert compacted == entity
