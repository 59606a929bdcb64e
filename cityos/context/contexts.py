"""NGSI-LD @context handling: resolve, process, expand and compact without a JSON-LD library.

A @context value (a URL, an inline object, or a list of them) is processed once into a
:class:`ProcessedContext`: a flat term map (term → IRI, with ``@type`` coercion, container,
prefix flag and keyword aliases such as ``id`` → ``@id``).  The NGSI-LD core context is
always applied last, so its terms cannot be overridden (ETSI GS CIM 009, core @context).
Processed contexts are cached (LRU) by their normalised JSON.

Remote contexts are never fetched: known URLs (the ETSI core context and the Smart Data
Models contexts) are served from the copies in ``cityos/data/jsonld/``; contexts added at
runtime (``/jsonldContexts``) are kept in the registry; any other URL raises
:class:`ContextNotAvailable` at once (the broker maps it to 503 LdContextNotAvailable).

Entity expansion and compaction then cost one dictionary lookup per attribute name.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "jsonld"
CORE_CONTEXT_FILE = "ngsi-ld-core-context-v1.9.jsonld"
CORE_CONTEXT_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"

_CORE_URLS = [CORE_CONTEXT_URL, CORE_CONTEXT_URL.replace("https://", "http://")] + [
    f"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.{minor}.jsonld"
    for minor in range(6, 10)  # v1.9 is a superset of the 1.6–1.8 terms
]
_SDM_DOMAINS = {"Environment", "Transportation", "WaterQuality"}


def _sdm_urls(domain: str) -> list[str]:
    return [
        f"https://raw.githubusercontent.com/smart-data-models/dataModel.{domain}/master/context.jsonld",
        f"https://smart-data-models.github.io/dataModel.{domain}/context.jsonld",
    ]


KNOWN_CONTEXTS: dict[str, str] = {url: CORE_CONTEXT_FILE for url in _CORE_URLS} | {
    url: f"context-{domain}.jsonld" for domain in sorted(_SDM_DOMAINS) for url in _sdm_urls(domain)
}
"""Well-known remote @context URL → file name in :data:`DATA_DIR`."""

KEYWORDS = frozenset(
    [
        "@base",
        "@container",
        "@context",
        "@direction",
        "@graph",
        "@id",
        "@import",
        "@included",
        "@index",
        "@json",
        "@language",
        "@list",
        "@nest",
        "@none",
        "@prefix",
        "@propagate",
        "@protected",
        "@reverse",
        "@set",
        "@type",
        "@value",
        "@version",
        "@vocab",
    ]
)
_GEN_DELIMS = tuple(":/?#[]@")
_MEMO_LIMIT = 10_000

ENTITY_MEMBERS = frozenset({"id", "type", "scope", "createdAt", "modifiedAt", "deletedAt"})
"""Entity members that are structure, not attributes: kept as they are."""

ATTRIBUTE_MEMBERS = frozenset(
    {
        "type",
        "value",
        "object",
        "objectType",
        "objectList",
        "languageMap",
        "vocab",
        "json",
        "valueList",
        "observedAt",
        "unitCode",
        "datasetId",
        "createdAt",
        "modifiedAt",
        "deletedAt",
        "instanceId",
        "lang",
        "previousValue",
        "previousObject",
        "previousLanguageMap",
        "previousVocab",
        "previousJson",
        "previousValueList",
        "previousObjectList",
    }
)
"""Attribute members that are structure (core terms), not sub-attributes: kept as they are."""


class ContextNotAvailable(Exception):
    """A remote @context that is neither shipped nor registered (no network fetch)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class InvalidContext(ValueError):
    """A malformed @context (wrong shape, cyclic definition, recursive inclusion)."""


@dataclass(frozen=True, slots=True)
class Term:
    """One processed term definition; ``iri`` None means the term is explicitly unmapped."""

    iri: str | None
    type: str | None = None
    container: tuple[str, ...] = ()
    prefix: bool = False


class ProcessedContext:
    """An active context: terms, @vocab, and memoised expansion and compaction."""

    __slots__ = ("_compacted", "_expanded", "_inverse", "_prefixes", "terms", "vocab")

    def __init__(self, terms: dict[str, Term], vocab: str | None) -> None:
        self.terms = terms
        self.vocab = vocab
        self._expanded: dict[str, str | None] = {t: d.iri for t, d in terms.items()}
        self._inverse = _inverse_terms(terms)
        self._prefixes = sorted(
            ((t, d.iri) for t, d in terms.items() if d.prefix and d.iri),
            key=lambda item: (len(item[0]), item[0]),
        )
        self._compacted: dict[str, str] = {}

    def expand(self, term: str) -> str | None:
        """The IRI of ``term`` (vocab-relative, as for keys and type values)."""
        try:
            return self._expanded[term]
        except KeyError:
            iri = _expand_iri(term, self.terms, self.vocab)
            if len(self._expanded) < _MEMO_LIMIT:
                self._expanded[term] = iri
            return iri

    def compact(self, iri: str) -> str:
        """The shortest term for ``iri``, else its @vocab suffix, else a compact IRI, else ``iri``."""
        try:
            return self._compacted[iri]
        except KeyError:
            short = self._compact_uncached(iri)
            if len(self._compacted) < _MEMO_LIMIT:
                self._compacted[iri] = short
            return short

    def _compact_uncached(self, iri: str) -> str:
        term = self._inverse.get(iri)
        if term is not None:
            return term
        if self.vocab and iri.startswith(self.vocab) and len(iri) > len(self.vocab):
            suffix = iri[len(self.vocab) :]
            if suffix not in self.terms and ":" not in suffix:
                return suffix
        best: str | None = None
        for prefix, prefix_iri in self._prefixes:
            if iri.startswith(prefix_iri) and len(iri) > len(prefix_iri):
                candidate = f"{prefix}:{iri[len(prefix_iri) :]}"
                taken = self.terms.get(candidate)
                if taken is not None and taken.iri != iri:
                    continue
                if best is None or (len(candidate), candidate) < (len(best), best):
                    best = candidate
        return best or iri


def _inverse_terms(terms: dict[str, Term]) -> dict[str, str]:
    inverse: dict[str, str] = {}
    for term in sorted(terms, key=lambda t: (len(t), t)):
        iri = terms[term].iri
        if iri is not None and not iri.startswith("@") and iri not in inverse:
            inverse[iri] = term
    return inverse


def _expand_iri(value: str, terms: dict[str, Term], vocab: str | None) -> str | None:
    if value in KEYWORDS:
        return value
    if value in terms:
        return terms[value].iri
    if ":" in value:
        prefix, suffix = value.split(":", 1)
        if prefix == "_" or suffix.startswith("//"):
            return value
        definition = terms.get(prefix)
        if definition is not None and definition.prefix and definition.iri:
            return definition.iri + suffix
        return value
    if vocab:
        return vocab + value
    return value


class _Builder:
    """The context processing algorithm (JSON-LD 1.1, the parts NGSI-LD contexts use)."""

    def __init__(self, registry: ContextRegistry) -> None:
        self.registry = registry
        self.terms: dict[str, Term] = {}
        self.vocab: str | None = None

    def apply(self, value: Any, loading: frozenset[str] = frozenset()) -> None:
        if value is None:
            self.terms, self.vocab = {}, None
        elif isinstance(value, str):
            if value in loading:
                raise InvalidContext(f"recursive context inclusion: {value}")
            self.apply(self.registry.context_of(value), loading | {value})
        elif isinstance(value, list):
            for item in value:
                self.apply(item, loading)
        elif isinstance(value, dict):
            self._apply_object(value, loading)
        else:
            raise InvalidContext("a @context must be a URL, an object or a list of them")

    def _apply_object(self, local: dict[str, Any], loading: frozenset[str]) -> None:
        if isinstance(local.get("@import"), str):
            imported = self.registry.context_of(local["@import"])
            if not isinstance(imported, dict):
                raise InvalidContext("@import must reference a context object")
            local = {**imported, **{k: v for k, v in local.items() if k != "@import"}}
        if "@vocab" in local:
            self.vocab = self._vocab_of(local["@vocab"])
        defined: dict[str, bool] = {}
        for term in local:
            if not term.startswith("@"):
                self._define(local, term, defined)

    def _vocab_of(self, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise InvalidContext("@vocab must be a string or null")
        return _expand_iri(value, self.terms, self.vocab)

    def _define(self, local: dict[str, Any], term: str, defined: dict[str, bool]) -> None:
        state = defined.get(term)
        if state is True:
            return
        if state is False:
            raise InvalidContext(f"cyclic term definition: {term}")
        defined[term] = False
        value = local[term]
        simple = isinstance(value, str)
        if value is None or (isinstance(value, dict) and value.get("@id", "") is None):
            self.terms[term] = Term(None)
        elif simple or isinstance(value, dict):
            self.terms[term] = self._definition(
                local, term, {"@id": value} if simple else value, simple, defined
            )
        else:
            raise InvalidContext(f"invalid term definition: {term}")
        defined[term] = True

    def _definition(
        self,
        local: dict[str, Any],
        term: str,
        value: dict[str, Any],
        simple: bool,
        defined: dict[str, bool],
    ) -> Term:
        raw_id = value.get("@id", value.get("@reverse"))
        if isinstance(raw_id, str):
            iri = self._expand_local(raw_id, local, defined)
        elif raw_id is None and ":" in term:
            iri = self._expand_local(term, local, defined)
        elif raw_id is None and self.vocab:
            iri = self.vocab + term
        else:
            raise InvalidContext(f"term {term} has no IRI mapping")
        raw_type = value.get("@type")
        coercion = None
        if isinstance(raw_type, str):
            coercion = (
                raw_type if raw_type in KEYWORDS else self._expand_local(raw_type, local, defined)
            )
        container = value.get("@container") or ()
        containers = (container,) if isinstance(container, str) else tuple(container)
        if "@prefix" in value:
            prefix = bool(value["@prefix"])
        else:
            prefix = (
                simple
                and ":" not in term
                and "/" not in term
                and iri is not None
                and (iri.endswith(_GEN_DELIMS) or iri.startswith("_:"))
            )
        return Term(iri, coercion, containers, prefix)

    def _expand_local(self, value: str, local: dict[str, Any], defined: dict[str, bool]) -> str:
        if value in local and not defined.get(value):
            self._define(local, value, defined)
        if ":" in value:
            prefix = value.split(":", 1)[0]
            if prefix in local and not defined.get(prefix):
                self._define(local, prefix, defined)
        iri = _expand_iri(value, self.terms, self.vocab)
        if iri is None:
            raise InvalidContext(f"{value} expands to nothing")
        return iri


class ContextRegistry:
    """Known and added @context documents, and the LRU cache of processed contexts."""

    def __init__(self, cache_size: int = 256) -> None:
        self._added: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._cached = functools.lru_cache(maxsize=cache_size)(self._process_normalised)
        self._core = self._process_core()

    @property
    def core(self) -> ProcessedContext:
        """The core context alone (what a request without any @context uses)."""
        return self._core

    def urls(self) -> list[str]:
        """Every URL this registry serves without the network (shipped, then added)."""
        return [*KNOWN_CONTEXTS, *self._added]

    def add(self, url: str, document: Any) -> None:
        """Register a context document (``{"@context": ...}``) under ``url``; checks it processes."""
        if not isinstance(document, dict) or "@context" not in document:
            raise InvalidContext("a context document is an object with a @context member")
        with self._lock:
            previous = self._added.get(url)
            self._added[url] = document
            try:
                _Builder(self).apply(document["@context"], frozenset({url}))
            except Exception:
                if previous is None:
                    del self._added[url]
                else:
                    self._added[url] = previous
                raise
            self._cached.cache_clear()

    def remove(self, url: str) -> None:
        """Forget an added context (shipped ones stay)."""
        with self._lock:
            self._added.pop(url, None)
            self._cached.cache_clear()

    def document(self, url: str) -> Any:
        """The JSON document served for ``url``; :class:`ContextNotAvailable` when unknown."""
        if url in self._added:
            return self._added[url]
        file_name = KNOWN_CONTEXTS.get(url)
        if file_name is None:
            raise ContextNotAvailable(url)
        return _shipped_document(file_name)

    def context_of(self, url: str) -> Any:
        """The ``@context`` member of the document at ``url``."""
        document = self.document(url)
        if not isinstance(document, dict) or "@context" not in document:
            raise InvalidContext(f"{url} is not a JSON-LD context document")
        return document["@context"]

    def process(self, context: Any) -> ProcessedContext:
        """The processed form of a @context value (None: the core context alone); cached."""
        if context is None:
            return self._core
        if isinstance(context, str):
            return self._cached("s" + context)
        return self._cached("j" + json.dumps(context, sort_keys=True, separators=(",", ":")))

    def _process_normalised(self, key: str) -> ProcessedContext:
        context = key[1:] if key[0] == "s" else json.loads(key[1:])
        builder = _Builder(self)
        builder.apply(context)
        terms = builder.terms | self._core.terms
        return ProcessedContext(terms, self._core.vocab)

    def _process_core(self) -> ProcessedContext:
        builder = _Builder(self)
        builder.apply(CORE_CONTEXT_URL)
        return ProcessedContext(builder.terms, builder.vocab)


@functools.cache
def _shipped_document(file_name: str) -> Any:
    return json.loads((DATA_DIR / file_name).read_text(encoding="utf-8"))


@functools.cache
def default_registry() -> ContextRegistry:
    """The process-wide registry."""
    return ContextRegistry()


def expand_term(term: str, ctx: ProcessedContext) -> str | None:
    """The IRI of an attribute name or type name under ``ctx`` (None if mapped to null)."""
    return ctx.expand(term)


def compact_iri(iri: str, ctx: ProcessedContext) -> str:
    """The short form of ``iri`` under ``ctx``."""
    return ctx.compact(iri)


def _map_types(value: Any, convert: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return convert(value)
    if isinstance(value, list):
        return [convert(item) if isinstance(item, str) else item for item in value]
    return value


def _expand_type(name: str, ctx: ProcessedContext) -> str:
    return ctx.expand(name) or name


def expand_entity(entity: dict[str, Any], ctx: ProcessedContext) -> dict[str, Any]:
    """An NGSI-LD entity with attribute names and entity types expanded to IRIs.

    Structural members (id, type, value, object, observedAt, unitCode, datasetId…) keep their
    core names; values are not touched; ``@context`` is dropped (it has been consumed).
    """
    out: dict[str, Any] = {}
    for key, value in entity.items():
        if key == "type":
            out[key] = _map_types(value, lambda name: _expand_type(name, ctx))
        elif key in ENTITY_MEMBERS or key.startswith("@"):
            if key != "@context":
                out[key] = value
        else:
            iri = ctx.expand(key)
            if iri is not None:
                out[iri] = _convert_attribute(value, ctx.expand)
    return out


def compact_entity(entity: dict[str, Any], ctx: ProcessedContext) -> dict[str, Any]:
    """The inverse of :func:`expand_entity`: IRIs back to the shortest names under ``ctx``."""
    out: dict[str, Any] = {}
    for key, value in entity.items():
        if key == "type":
            out[key] = _map_types(value, ctx.compact)
        elif key in ENTITY_MEMBERS or key.startswith("@"):
            out[key] = value
        else:
            out[ctx.compact(key)] = _convert_attribute(value, ctx.compact)
    return out


def _convert_attribute(value: Any, convert: Callable[[str], str | None]) -> Any:
    if isinstance(value, dict):
        return _convert_members(value, convert)
    if isinstance(value, list):
        return [
            _convert_members(item, convert) if isinstance(item, dict) else item for item in value
        ]
    return value


def _convert_members(
    attribute: dict[str, Any], convert: Callable[[str], str | None]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in attribute.items():
        if key in ATTRIBUTE_MEMBERS or key.startswith("@"):
            out[key] = value
        else:
            name = convert(key)
            if name is not None:
                out[name] = _convert_attribute(value, convert)
    return out
