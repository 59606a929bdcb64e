"""Column scan: which personal information and identifiers each column of a table holds.

For every column the scan reads up to ``sample`` rows, asks ``detect_value`` what each non-empty
cell holds and reports each type whose share of the non-empty cells reaches ``min_ratio``
(names, judged without a header hint, need ``name_min_ratio``: the column must be *mostly*
names). The header is a hint, never the judge: a column called 身份证号 whose values fail the
check digit is not reported as IDs; the hint only relaxes the name and address checks, admits
15-digit legacy ID numbers, and wins ties.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cityos.protection.detectors import TYPES, detect_value
from cityos.protection.grades import grade_for_types, resource_grade

DEFAULT_SAMPLE = 10_000
DEFAULT_MIN_RATIO = 0.1
NAME_MIN_RATIO = 0.5
# a column of a few repeated short words (高级/中级/初级) is a category, not people's names
_NAME_MIN_MATCHES_FOR_DISTINCT_CHECK = 20
_NAME_MIN_DISTINCT_SHARE = 0.2
_NAME_DISTINCT_CAP = 2_000  # distinct names remembered; a column reaching it is clearly people
_CACHE_LIMIT = 200_000

# header words → the type they suggest, most specific first (联系人电话 is a phone number)
HEADER_HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("id_card", ("身份证", "身份号码", "证件号码", "证件号", "idcard", "id_card", "id_no")),
    ("passport", ("护照", "passport")),
    ("permit", ("通行证", "回乡证", "permit")),
    ("uscc", ("统一社会信用代码", "信用代码", "uscc", "credit_code")),
    ("bank_card", ("银行卡", "银行账号", "银行账户", "卡号", "bank_card", "card_no")),
    ("mobile", ("手机", "电话", "联系方式", "mobile", "phone", "tel", "telephone")),
    ("email", ("邮箱", "电子邮件", "邮件", "email", "e-mail", "mail")),
    ("plate", ("车牌", "号牌", "plate", "plate_no")),
    ("address", ("住址", "地址", "户籍地", "居住地", "住所", "address", "addr")),
    (
        "name",
        (
            "姓名",
            "联系人",
            "户主",
            "申请人",
            "法定代表人",
            "负责人",
            "经办人",
            "名字",
            "full_name",
            "person_name",
            "contact_name",
        ),
    ),
)


def _hint_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # Chinese words anywhere; English words as whole words, so "hotel" is not "tel"
    parts = [
        re.escape(w) if not w.isascii() else rf"(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])"
        for w in words
    ]
    return re.compile("|".join(parts))


_HINT_PATTERNS = tuple((kind, _hint_pattern(words)) for kind, words in HEADER_HINTS)


def header_hint(header: str) -> str | None:
    """The type a column header names, if any."""
    lowered = header.strip().lower()
    for kind, pattern in _HINT_PATTERNS:
        if pattern.search(lowered):
            return kind
    return None


@dataclass(frozen=True, slots=True)
class ColumnReport:
    name: str
    detected: list[tuple[str, float]]  # (type, share of non-empty values), highest first
    suggested_grade: str
    personal_category: str | None  # "sensitive_personal", "personal" or None
    hint: str | None = None  # the type the header names
    non_empty: int = 0  # non-empty values scanned

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "detected": [{"type": t, "ratio": r} for t, r in self.detected],
            "suggested_grade": self.suggested_grade,
        }


@dataclass
class _Tally:
    hint: str | None
    non_empty: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)


def _cell_text(cell: object) -> str:
    if cell is None:
        return ""
    return cell if isinstance(cell, str) else str(cell)


def scan_columns(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    sample: int = DEFAULT_SAMPLE,
    *,
    min_ratio: float = DEFAULT_MIN_RATIO,
    name_min_ratio: float = NAME_MIN_RATIO,
) -> list[ColumnReport]:
    """Scan the first ``sample`` rows and report, per column, the types found in at least
    ``min_ratio`` of its non-empty values, with a suggested grade (see ``grades``)."""
    tallies = [_Tally(header_hint(h)) for h in header]
    width = len(tallies)
    cache: dict[tuple[int, str], tuple[str, ...]] = {}
    for index, row in enumerate(rows):
        if index >= sample:
            break
        for col, cell in enumerate(row[:width]):
            text = _cell_text(cell).strip()
            if not text:
                continue
            tally = tallies[col]
            tally.non_empty += 1
            key = (col, text)
            kinds = cache.get(key)
            if kinds is None:
                kinds = detect_value(text, tally.hint)
                if len(cache) < _CACHE_LIMIT:
                    cache[key] = kinds
            for kind in kinds:
                tally.counts[kind] = tally.counts.get(kind, 0) + 1
                if kind == "name" and len(tally.names) < _NAME_DISTINCT_CAP:
                    tally.names.add(text)
    return [
        _report(name, tally, min_ratio, name_min_ratio)
        for name, tally in zip(header, tallies, strict=True)
    ]


def _report(name: str, tally: _Tally, min_ratio: float, name_min_ratio: float) -> ColumnReport:
    detected: list[tuple[str, float]] = []
    if tally.non_empty:
        for kind in TYPES:
            count = tally.counts.get(kind, 0)
            if not count:
                continue
            ratio = round(count / tally.non_empty, 4)
            needed = min_ratio
            if kind == "name" and tally.hint != "name":
                needed = max(min_ratio, name_min_ratio)
                distinct = len(tally.names)
                if (
                    count >= _NAME_MIN_MATCHES_FOR_DISTINCT_CHECK
                    and distinct < _NAME_DISTINCT_CAP
                    and distinct < _NAME_MIN_DISTINCT_SHARE * count
                ):
                    continue
            if ratio >= needed:
                detected.append((kind, ratio))
    order = {t: i for i, t in enumerate(TYPES)}
    detected.sort(key=lambda d: (-d[1], d[0] != tally.hint, order[d[0]]))
    grade, category = grade_for_types(t for t, _ in detected)
    return ColumnReport(name, detected, grade, category, tally.hint, tally.non_empty)


def resource_suggestion(reports: Iterable[ColumnReport]) -> str:
    """Suggested grade of the whole resource: the highest column grade, raised when columns
    together identify and reach a person (see ``grades.resource_grade``)."""
    reports = list(reports)
    return resource_grade(
        (r.suggested_grade for r in reports), (t for r in reports for t, _ in r.detected)
    )
