"""A small triple store and fast writers for Turtle, JSON-LD and RDF/XML.

rdflib's own serializers take minutes for a 10,000-dataset catalogue (300,000 triples; its
Turtle writer alone ~100 s), so the catalogue graph is kept as subject → (predicate, object)
lists and written here in one pass (under a second). rdflib provides the vocabulary terms, and
:meth:`Triples.to_rdflib` gives a real ``rdflib.Graph`` (tests parse every format back).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from rdflib import Graph, Literal, URIRef
from rdflib import namespace as rdfns

PREFIXES: dict[str, str] = {
    "rdf": str(rdfns.RDF),
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": str(rdfns.DCTERMS),
    "foaf": str(rdfns.FOAF),
    "skos": str(rdfns.SKOS),
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": str(rdfns.XSD),
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TTL_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_TTL_SPECIAL = re.compile(r'[\\"\n\r\t\x00-\x08\x0b\x0c\x0e-\x1f\x7f]')
_IRI_BAD = re.compile(r'[\x00-\x20<>"{}|^`\\]')


class IRI(str):
    """An IRI object (a plain ``str`` subclass, cheap to create)."""

    __slots__ = ()


class Lit(NamedTuple):
    """A literal: a plain string, a language-tagged string or a typed value."""

    value: str
    lang: str | None = None
    datatype: str | None = None


Obj = IRI | Lit


class Vocab:
    """Terms of a namespace as :class:`IRI` (plain strings: fast to hash and compare)."""

    def __init__(self, base: str) -> None:
        self._base = base

    def __getattr__(self, name: str) -> IRI:
        value = IRI(self._base + name)
        setattr(self, name, value)
        return value

    def __str__(self) -> str:
        return self._base


RDF = Vocab(PREFIXES["rdf"])
DCAT = Vocab(PREFIXES["dcat"])
DCT = Vocab(PREFIXES["dct"])
FOAF = Vocab(PREFIXES["foaf"])
SKOS = Vocab(PREFIXES["skos"])
VCARD = Vocab(PREFIXES["vcard"])
XSD = Vocab(PREFIXES["xsd"])
RDF_TYPE = RDF.type


def iri(value: str) -> IRI:
    """An IRI with characters Turtle/N-Triples forbid percent-encoded."""
    if _IRI_BAD.search(value) is None:
        return IRI(value)
    return IRI(_IRI_BAD.sub(lambda m: f"%{ord(m.group(0)):02X}", value))


class Triples:
    """Subjects in insertion order, each with its (predicate, object) pairs."""

    def __init__(self) -> None:
        self.subjects: dict[str, list[tuple[str, Obj]]] = {}

    def add(self, s: str, p: str, o: Obj | str) -> None:
        """Add a triple; an object that is not a :class:`Lit` is an IRI (e.g. ``FOAF.Agent``)."""
        if o.__class__ is not IRI and o.__class__ is not Lit:
            o = IRI(o)
        pairs = self.subjects.get(s)
        if pairs is None:
            pairs = self.subjects[s] = []
        pairs.append((p, o))

    def __len__(self) -> int:
        return sum(len(v) for v in self.subjects.values())

    def __iter__(self) -> Iterator[tuple[str, str, Obj]]:
        for s, pairs in self.subjects.items():
            for p, o in pairs:
                yield s, p, o

    def to_rdflib(self) -> Graph:
        g = Graph()
        for prefix, ns in PREFIXES.items():
            g.bind(prefix, ns)
        for s, p, o in self:
            if isinstance(o, IRI):
                g.add((URIRef(s), URIRef(p), URIRef(o)))
            else:
                dt = URIRef(o.datatype) if o.datatype else None
                g.add((URIRef(s), URIRef(p), Literal(o.value, lang=o.lang, datatype=dt)))
        return g


class _Names:
    """Predicate IRI → ``prefix:local`` (cached); None when it cannot be written as a QName."""

    def __init__(self) -> None:
        self.cache: dict[str, str | None] = {}
        self.by_length = sorted(PREFIXES.items(), key=lambda kv: -len(kv[1]))

    def __call__(self, value: str) -> str | None:
        if value in self.cache:
            return self.cache[value]
        found = None
        for prefix, ns in self.by_length:
            local = value[len(ns) :]
            if value.startswith(ns) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", local):
                found = f"{prefix}:{local}"
                break
        self.cache[value] = found
        return found


# ---------------------------------------------------------------- Turtle


def _ttl_string(value: str) -> str:
    def sub(m: re.Match[str]) -> str:
        ch = m.group(0)
        return _TTL_ESCAPES.get(ch) or f"\\u{ord(ch):04X}"

    return '"' + _TTL_SPECIAL.sub(sub, value) + '"'


def turtle(triples: Triples) -> str:
    names = _Names()

    def term(value: str) -> str:
        return names(value) or f"<{value}>"

    out = [f"@prefix {p}: <{ns}> ." for p, ns in PREFIXES.items()]
    out.append("")
    for s, pairs in triples.subjects.items():
        lines = []
        for p, o in pairs:
            pred = "a" if p == RDF_TYPE else term(p)
            if isinstance(o, IRI):
                obj = term(o) if p == RDF_TYPE else f"<{o}>"
            elif o.lang:
                obj = f"{_ttl_string(o.value)}@{o.lang}"
            elif o.datatype:
                obj = f"{_ttl_string(o.value)}^^{term(o.datatype)}"
            else:
                obj = _ttl_string(o.value)
            lines.append(f"    {pred} {obj}")
        out.append(f"<{s}>\n" + " ;\n".join(lines) + " .\n")
    return "\n".join(out)


# ---------------------------------------------------------------- JSON-LD


def jsonld_document(triples: Triples) -> dict[str, Any]:
    names = _Names()
    graph: list[dict[str, Any]] = []
    for s, pairs in triples.subjects.items():
        node: dict[str, Any] = {"@id": s}
        for p, o in pairs:
            if p == RDF_TYPE and isinstance(o, IRI):
                node.setdefault("@type", []).append(names(o) or str(o))
                continue
            key = names(p) or p
            value: dict[str, str]
            if isinstance(o, IRI):
                value = {"@id": str(o)}
            elif o.lang:
                value = {"@value": o.value, "@language": o.lang}
            elif o.datatype:
                value = {"@value": o.value, "@type": names(o.datatype) or o.datatype}
            else:
                value = {"@value": o.value}
            node.setdefault(key, []).append(value)
        graph.append(node)
    return {"@context": dict(PREFIXES), "@graph": graph}


def jsonld(triples: Triples) -> str:
    return json.dumps(jsonld_document(triples), ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------- RDF/XML


def _xml_text(value: str) -> str:
    if _CONTROL.search(value):
        value = _CONTROL.sub("", value)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value.replace("\r", "&#13;") if "\r" in value else value  # survives XML newline folding


def _xml_attr(value: str) -> str:
    return '"' + _xml_text(value).replace('"', "&quot;") + '"'


def rdfxml(triples: Triples) -> str:
    names = _Names()
    namespaces = " ".join(f"xmlns:{p}={_xml_attr(ns)}" for p, ns in PREFIXES.items())
    out = ['<?xml version="1.0" encoding="utf-8"?>', f"<rdf:RDF {namespaces}>"]
    for s, pairs in triples.subjects.items():
        out.append(f"  <rdf:Description rdf:about={_xml_attr(s)}>")
        for p, o in pairs:
            tag = names(p)
            if tag is None:  # every predicate used here has a QName; never silently drop one
                raise ValueError(f"predicate without a prefix: {p}")
            if isinstance(o, IRI):
                out.append(f"    <{tag} rdf:resource={_xml_attr(o)}/>")
            elif o.lang:
                out.append(f'    <{tag} xml:lang="{o.lang}">{_xml_text(o.value)}</{tag}>')
            elif o.datatype:
                dt = _xml_attr(o.datatype)
                out.append(f"    <{tag} rdf:datatype={dt}>{_xml_text(o.value)}</{tag}>")
            else:
                out.append(f"    <{tag}>{_xml_text(o.value)}</{tag}>")
        out.append("  </rdf:Description>")
    out.append("</rdf:RDF>\n")
    return "\n".join(out)


FORMATS = {
    "ttl": ("text/turtle; charset=utf-8", turtle),
    "jsonld": ("application/ld+json; charset=utf-8", jsonld),
    "rdf": ("application/rdf+xml; charset=utf-8", rdfxml),
}
