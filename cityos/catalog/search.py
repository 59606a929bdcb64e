"""Chinese full-text search over the catalogue: jieba terms in plain tables, no FTS extension.

Indexing: name (weight 5), keywords (4), item names (2), summary (1) (and the resource code and
item field names, for ASCII look-ups) are segmented with ``jieba.cut_for_search``, lowercased,
stripped of punctuation, whitespace and stop words, and stored as ``SearchTerm`` rows with the
summed weight of the fields a term occurs in. ``search_text`` keeps the normalised text.

Querying: the query is normalised and segmented the same way (jieba's precise mode, whose words
are a subset of what ``cut_for_search`` indexes); every query term must match (AND), either as
an indexed term or as the prefix of one (a byte-ordered range, which uses the index on both
SQLite and PostgreSQL). Single CJK characters, and terms that occur nowhere in the index, fall
back to a substring match over ``search_text``. Results rank by summed weights.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import unicodedata
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from cityos.catalog.models import Resource, ResourceItem, ResourceTag, SearchTerm

WEIGHTS = {"name": 5, "code": 5, "keywords": 4, "items": 2, "summary": 1}
MAX_QUERY_TERMS = 12
MAX_TERM_LENGTH = 64
# frequent function words that carry no meaning in a catalogue query
STOPWORDS = frozenset(
    [
        "的",
        "了",
        "和",
        "与",
        "及",
        "或",
        "等",
        "在",
        "是",
        "对",
        "为",
        "之",
        "其",
        "以",
        "及其",
        "有关",
        "相关",
        "各",
        "各类",
        "一",
        "个",
        "中",
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
    ]
)
# names the default dictionary does not know, so that they stay whole
DOMAIN_WORDS = (
    "海口",
    "南渡江",
    "美舍河",
    "五源河",
    "红城湖",
    "秀英区",
    "龙华区",
    "琼山区",
    "美兰区",
    "信息资源",
    "电子证照",
    "统一社会信用代码",
)

_lock = threading.Lock()
_tokenizer: Any = None


def _cache_dir() -> str:
    """A private, writable directory for jieba's dictionary cache (never the package dir)."""
    base = tempfile.gettempdir()
    uid = os.getuid() if hasattr(os, "getuid") else 0
    path = os.path.join(base, f"cityos-jieba-{uid}")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        if os.access(path, os.W_OK):
            return path
    except OSError:
        pass
    return base


def tokenizer() -> Any:
    """jieba's tokenizer, loaded on first use (about a second), once per process."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tk = jieba.Tokenizer()
                tk.tmp_dir = _cache_dir()
                tk.cache_file = "jieba.cache"
                tk.initialize()
                for word in DOMAIN_WORDS:
                    tk.add_word(word, freq=20000)
                _tokenizer = tk
    return _tokenizer


def normalise(text: str) -> str:
    """Full-width to half-width, lowercased."""
    return unicodedata.normalize("NFKC", text or "").lower()


def _clean(token: str) -> str | None:
    term = token.strip()
    if not term or len(term) > MAX_TERM_LENGTH or term in STOPWORDS:
        return None
    if not any(ch.isalnum() for ch in term):  # punctuation, symbols, whitespace
        return None
    return term


def index_tokens(text: str) -> set[str]:
    """Search-mode terms of a text, as stored in the index."""
    out: set[str] = set()
    for token in tokenizer().cut_for_search(normalise(text)):
        term = _clean(token)
        if term:
            out.add(term)
    return out


def query_terms(q: str) -> list[str]:
    """The terms of a query, in order, without duplicates."""
    seen: list[str] = []
    for token in tokenizer().cut(normalise(q)):
        term = _clean(token)
        if term and term not in seen:
            seen.append(term)
    return seen[:MAX_QUERY_TERMS]


def is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or ch >= "\U00020000"


def _upper_bound(term: str) -> str:
    """The smallest string greater than every string that starts with ``term``."""
    return term[:-1] + chr(ord(term[-1]) + 1)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --------------------------------------------------------------------------- indexing


def index_resource(session: Session, resource: Resource, items: Iterable[ResourceItem]) -> None:
    """(Re)write the search terms, facet tags and ``search_text`` of one resource."""
    items = list(items)
    fields: dict[str, list[str]] = {
        "name": [resource.name],
        "code": [resource.code],
        "keywords": list(resource.keywords or []),
        "items": [i.name for i in items] + [i.field for i in items],
        "summary": [resource.summary or ""],
    }
    weights: dict[str, int] = {}
    for kind, texts in fields.items():
        terms: set[str] = set()
        for text in texts:
            terms |= index_tokens(text)
        if kind == "code" and resource.code:
            terms.add(normalise(resource.code))
        for term in terms:
            weights[term] = weights.get(term, 0) + WEIGHTS[kind]
    resource.search_text = " ".join(normalise(t) for texts in fields.values() for t in texts if t)
    quick = {"synchronize_session": False}  # these rows are never loaded as objects
    session.execute(
        delete(SearchTerm).where(SearchTerm.resource_id == resource.id), execution_options=quick
    )
    session.execute(
        delete(ResourceTag).where(ResourceTag.resource_id == resource.id), execution_options=quick
    )
    if weights:
        session.execute(
            insert(SearchTerm),
            [{"resource_id": resource.id, "term": t, "weight": w} for t, w in weights.items()],
        )
    resource.district_key = district_key(resource.districts or [])
    tags = {("keyword", k[:100]) for k in resource.keywords or []}
    if tags:
        session.execute(
            insert(ResourceTag),
            [{"resource_id": resource.id, "facet": f, "value": v} for f, v in sorted(tags)],
        )


# --------------------------------------------------------------------------- matching


POSTING_CAP = 2000


def _postings(session: Session, term: str) -> int:
    """How many index rows a term (as a prefix) has, counted up to POSTING_CAP."""
    rows = (
        select(SearchTerm.resource_id)
        .where(SearchTerm.term >= term, SearchTerm.term < _upper_bound(term))
        .limit(POSTING_CAP)
        .subquery()
    )
    return int(session.scalar(select(func.count()).select_from(rows)) or 0)


def _in_range(table: Any, term: str) -> ColumnElement[bool]:
    return and_(table.term >= term, table.term < _upper_bound(term))


def _text_contains(term: str) -> ColumnElement[bool]:
    return Resource.search_text.like(f"%{_escape_like(term)}%", escape="\\")


def match_query(session: Session, q: str) -> Select[Any] | None:
    """A query of (rid, score) for resources matching every term of ``q``; None: no terms.

    The rarest indexed term drives: its index rows give the candidates, and each other term
    is then checked per candidate through the (resource_id, term) primary key, so the cost
    follows the rarest term rather than the most common one.
    """
    terms = query_terms(q)
    if not terms:
        return None
    indexed: list[tuple[int, str]] = []
    fallback: list[str] = []
    for term in terms:
        size = 0 if len(term) == 1 and is_cjk(term) else _postings(session, term)
        if size:
            indexed.append((size, term))
        else:
            fallback.append(term)
    if not indexed:  # substring matches only
        only_text: Any = select(
            Resource.id.label("rid"), literal(len(fallback), Integer).label("score")
        ).where(*[_text_contains(t) for t in fallback])
        return only_text
    indexed.sort(key=lambda st: st[0])
    driver_term = indexed[0][1]
    driver = (
        select(SearchTerm.resource_id.label("rid"), func.sum(SearchTerm.weight).label("w"))
        .where(_in_range(SearchTerm, driver_term))
        .group_by(SearchTerm.resource_id)
        .subquery("driver")
    )
    score: Any = driver.c.w
    conditions: list[Any] = []
    for _size, term in indexed[1:]:
        other = aliased(SearchTerm)
        weight = (
            select(func.sum(other.weight))
            .where(other.resource_id == driver.c.rid, _in_range(other, term))
            .scalar_subquery()
        )
        conditions.append(weight.is_not(None))
        score = score + func.coalesce(weight, 0)
    for term in fallback:
        conditions.append(
            exists(select(Resource.id).where(Resource.id == driver.c.rid, _text_contains(term)))
        )
        score = score + 1
    return select(driver.c.rid, score.label("score")).where(*conditions)


def district_key(codes: list[str]) -> str:
    return "".join(f"|{code}" for code in sorted(set(codes))) + "|" if codes else ""


def district_filter(codes: list[str]) -> ColumnElement[bool]:
    return or_(*[Resource.district_key.like(f"%|{code}|%") for code in codes])


def tag_filter(facet: str, values: list[str]) -> ColumnElement[bool]:
    return Resource.id.in_(
        select(ResourceTag.resource_id).where(
            ResourceTag.facet == facet, ResourceTag.value.in_(values)
        )
    )
