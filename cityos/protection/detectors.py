"""Find personal information and identifiers in Chinese text and in table cells.

Two entry points:

- ``find_all(text)``: every identifier in free text, as ``Match(type, start, end, value)``.
  Chinese has no word boundaries, so identifiers are delimited with ASCII letter/digit
  lookarounds (``(?<![0-9A-Za-z])`` … ``(?![0-9A-Za-z])``), never ``\\b``: in
  "身份证号460105199003071234联系" the number is found, inside "ab13800138000cd" it is not.
- ``matches_value(type, value)``: whether a whole cell is a value of that type.

Numbers with a check digit count only when the check holds (身份证号: GB 11643 check character
and a real birth date; 统一社会信用代码: GB 32100 via ``cityos.directory.codes``; bank cards: Luhn,
16–19 digits and a plausible issuer prefix). Where one value could be two things, the stronger
reading wins: a valid 身份证号 is an ID, never a bank card, and an 18-digit number shaped like an ID
(region digit, real birth date) is not taken for a bank card even if its check digit is wrong.
Names are judged only on whole cells or after a cue such as 姓名/联系人 (a 2–3 character word in
running text is too often not a name).

Every pattern is compiled once; ``detect_value`` dispatches a cell by its length and character
class first, so most cells cost one or two cheap string tests and at most one regex.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from operator import mul

from cityos.directory.codes import is_valid_uscc
from cityos.protection.dictionaries import (
    COMPOUND_SURNAMES,
    NOT_IN_GIVEN_NAMES,
    NOT_NAMES,
    PLATE_PROVINCES,
    SINGLE_SURNAMES,
    TITLES,
)

TYPES = (
    "id_card",
    "uscc",
    "bank_card",
    "mobile",
    "email",
    "plate",
    "passport",
    "permit",
    "name",
    "address",
)
# when two matches overlap in free text, the earlier type in this order wins
PRIORITY = (
    "email",
    "id_card",
    "uscc",
    "passport",
    "permit",
    "bank_card",
    "mobile",
    "plate",
    "address",
    "name",
)
_RANK = {t: i for i, t in enumerate(PRIORITY)}


@dataclass(frozen=True, slots=True)
class Match:
    type: str
    start: int
    end: int
    value: str


# --- check digits -------------------------------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
_EARLIEST_BIRTH_YEAR = 1880


_ID_WEIGHT_SUM_48 = 48 * sum(ID_WEIGHTS)


def id_check_char(first17: str) -> str:
    """GB 11643 check character of the first 17 digits."""
    total = sum(map(mul, first17.encode("ascii"), ID_WEIGHTS)) - _ID_WEIGHT_SUM_48
    return ID_CHECK[total % 11]


@lru_cache(maxsize=65_536)
def _birth_date_ok(digits8: str) -> bool:
    """YYYYMMDD is a real calendar date, not before 1880 and not in the future. (Cached: birth
    dates repeat; a cached "future" answer for today's date is at worst a day late.)"""
    year, month, day = int(digits8[:4]), int(digits8[4:6]), int(digits8[6:8])
    if year < _EARLIEST_BIRTH_YEAR:
        return False
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return born <= date.today()


def is_valid_id_card(value: str, *, legacy: bool = False) -> bool:
    """18-character 居民身份证号 (also 港澳台居民居住证 810000/820000/830000): region digit 1–8,
    a real birth date and the GB 11643 check character (X or x). With ``legacy``, 15-digit
    first-generation numbers (no check digit, birth date 19YYMMDD) are accepted too."""
    n = len(value)
    if n == 18:
        first17 = value[:17]
        if not first17.isascii() or not first17.isdigit() or not "1" <= value[0] <= "8":
            return False
        if not _birth_date_ok(value[6:14]):
            return False
        return id_check_char(first17) == value[17].upper()
    if legacy and n == 15 and value.isascii() and value.isdigit() and "1" <= value[0] <= "8":
        return _birth_date_ok("19" + value[6:12])
    return False


def _id_shaped(digits: str) -> bool:
    """18 digits that read like an ID (region digit, real birth date), whatever the check."""
    return len(digits) == 18 and "1" <= digits[0] <= "8" and _birth_date_ok(digits[6:14])


_DOUBLED = str.maketrans("0123456789", "0246813579")  # 2d, minus 9 when over 9


def luhn_ok(digits: str) -> bool:
    rev = digits[::-1]
    total = sum(map(int, rev[0::2])) + sum(map(int, rev[1::2].translate(_DOUBLED)))
    return total % 10 == 0


def _plausible_issuer(digits: str) -> bool:
    """Issuer prefixes of cards used in China: UnionPay 62 (and 60/65/6x), Visa 4,
    Mastercard 51–55 and 2221–2720, JCB 35, and old domestic 95xx debit cards."""
    first = digits[0]
    if first in "46":
        return True
    if first == "5":
        return "1" <= digits[1] <= "5"
    if first == "3":
        return digits[1] == "5"
    if first == "2":
        return "2221" <= digits[:4] <= "2720"
    return digits[:2] == "95"


def is_valid_bank_card(value: str) -> bool:
    """16–19 digits (spaces or dashes between groups allowed), plausible issuer, Luhn check."""
    digits = value.replace(" ", "").replace("-", "") if not value.isdigit() else value
    if not 16 <= len(digits) <= 19 or not digits.isascii() or not digits.isdigit():
        return False
    if not _plausible_issuer(digits) or len(set(digits)) < 3:
        return False
    if len(digits) == 18 and _id_shaped(digits):
        return False
    return luhn_ok(digits)


# --- patterns -------------------------------------------------------------------------------

_L = r"(?<![0-9A-Za-z])"  # not preceded by an ASCII letter or digit
_R = r"(?![0-9A-Za-z])"  # not followed by one
_NUM_L = _L + r"(?<!\d\.)"  # nor part of a decimal number
_NUM_R = r"(?![0-9A-Za-z]|\.\d)"
_USCC_CHAR = "0-9A-HJ-NPQRTUWXY"  # the 31 symbols of GB 32100
_LETTER = "A-HJ-NP-Z"  # no I, O

_ID = r"[1-8]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
_USCC = rf"[1-9ANY][{_USCC_CHAR}]\d{{6}}[{_USCC_CHAR}]{{10}}"
_BANK_GROUPED = r"\d{4}(?P<g>[ -])\d{4}(?P=g)\d{4}(?P=g)\d{4}(?:(?P=g)\d{1,3})?"
_BANK = rf"(?:\d{{16,19}}|{_BANK_GROUPED})"
_MOBILE = r"(?:(?:\+|00)86[ -]?)?1[3-9]\d(?P<s>[ -]?)\d{4}(?P=s)\d{4}"
_EMAIL = r"[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}"
_PLATE = (
    rf"[{PLATE_PROVINCES}][{_LETTER}][·• ]?"
    rf"(?:[DF][{_LETTER}0-9]\d{{4}}|\d{{5}}[DF]|[{_LETTER}0-9]{{4}}[{_LETTER}0-9挂学警港澳])"
)
_PASSPORT = rf"(?:[EG]\d{{8}}|E[{_LETTER}]\d{{7}})"
_PERMIT = rf"(?:C\d{{8}}|C[{_LETTER}]\d{{7}}|T\d{{8}}|[HM]\d{{8}}(?:\d{{2}})?)"

ID_RE = re.compile(_L + _ID + _R)
USCC_RE = re.compile(_L + _USCC + _R)
BANK_RE = re.compile(_NUM_L + _BANK + _NUM_R)
MOBILE_RE = re.compile(r"(?<![0-9A-Za-z+])(?<!\d\.)" + _MOBILE + _NUM_R)
EMAIL_RE = re.compile(r"(?<![A-Za-z0-9._%+-])" + _EMAIL + r"(?![A-Za-z0-9-])")
PLATE_RE = re.compile(_PLATE + _R)
PASSPORT_RE = re.compile(_L + _PASSPORT + _R)
PERMIT_RE = re.compile(_L + _PERMIT + _R)

_MOBILE_FULL = re.compile(_MOBILE)
_EMAIL_FULL = re.compile(_EMAIL)
_PLATE_FULL = re.compile(_PLATE)
_PASSPORT_FULL = re.compile(_PASSPORT)
_PERMIT_FULL = re.compile(_PERMIT)
_BANK_GROUPED_FULL = re.compile(_BANK_GROUPED)
_DIGIT4 = re.compile(r"\d{4}")


def _plate_ok(value: str) -> bool:
    tail = value[2:]
    return sum(ch.isdigit() for ch in tail) >= 3


# --- addresses -------------------------------------------------------------------------------

# CJK unified ideographs except characters that never belong to a place name but often lead
# into one ("住在", "地址是", "我家"), so that a match starts at the place itself
_ADDR_STOP = "的是在住址为和与及或我你他她您电话手机联系请到"
_HAN = rf"[^\x00-\u4dff\ua000-\U0010ffff{_ADDR_STOP}]"
_ADMIN = r"(?:省|自治区|特别行政区|自治州|市|地区|盟|(?<![小社园景校厂片营])区|县|旗|镇|乡|街道)"
_STREET = r"(?:大道|大街|路|街|巷|胡同|弄|里|村|社区|小区|花园|大厦|新村|公寓|广场)"
_CN_NUM = "一二三四五六七八九十"
_NUMBER = rf"(?:\d{{1,5}}|[{_CN_NUM}]{{1,3}})(?:号|弄)"
_UNIT = rf"(?:[0-9A-Za-z{_CN_NUM}-]{{1,5}}(?:号楼|栋|幢|座|单元|楼|层|室|号|组))"
ADDRESS_RE = re.compile(
    rf"(?P<admin>(?:{_HAN}{{1,8}}?{_ADMIN}){{1,5}})?"
    rf"(?P<street>(?:{_HAN}|\d){{1,12}}?{_STREET})?"
    rf"(?P<number>{_HAN}{{0,4}}?{_NUMBER})?"
    rf"(?P<unit>{_UNIT}{{1,4}})?"
)
# where an address can end: a street-level word or a house number
_ADDRESS_ANCHOR = re.compile(rf"{_STREET}|{_NUMBER}")
_ADDRESS_MARKERS = re.compile(r"[路街巷道村号弄里区园厦场寓]")
_ADDRESS_ANY_MARKER = re.compile(r"[省市区县旗镇乡路街巷道村号弄栋幢室单元]")
_ADDRESS_LOOKBACK = 40


def _address_ok(m: re.Match[str]) -> bool:
    admin, street, number, unit = m.group("admin", "street", "number", "unit")
    parts = (admin is not None) + (street is not None) + (number is not None) + (unit is not None)
    if parts < 2:
        return False
    # an administrative name alone (海口市美兰区) or a building alone is not an address
    return street is not None or number is not None


def _is_address_char(ch: str) -> bool:
    return ("\u4e00" <= ch <= "\u9fff" and ch not in _ADDR_STOP) or "0" <= ch <= "9"


def _addresses(text: str) -> list[Match]:
    """Addresses end at a street word or a house number: find those anchors, walk left over
    the characters a place name can have, and parse from there (one anchored match per anchor
    instead of a regex attempt at every position of the text)."""
    if not _ADDRESS_MARKERS.search(text):
        return []
    found: list[Match] = []
    covered = 0
    for anchor in _ADDRESS_ANCHOR.finditer(text):
        if anchor.start() < covered:
            continue
        start = anchor.start()
        floor = max(covered, start - _ADDRESS_LOOKBACK)
        while start > floor and _is_address_char(text[start - 1]):
            start -= 1
        m = ADDRESS_RE.match(text, start)
        while m is not None and m.end() <= anchor.start() and start < anchor.start():
            # the parse stopped short of the anchor (e.g. a digit run): start closer to it
            start += 1
            m = ADDRESS_RE.match(text, start)
        if m is None or m.end() <= anchor.start():
            continue
        covered = m.end()
        if m.end() - m.start() >= 5 and _address_ok(m):
            found.append(Match("address", m.start(), m.end(), m.group()))
    return found


def is_address(value: str, *, relaxed: bool = False) -> bool:
    """A cell holding a postal address (海口市美兰区海甸岛人民大道58号, 人民大道58号3栋201室).
    ``relaxed`` (the column is headed 住址/地址): Chinese text with any address marker."""
    if not 5 <= len(value) <= 120:
        return relaxed and 2 <= len(value) <= 120 and _relaxed_address(value)
    if _addresses(value):
        return True
    return relaxed and _relaxed_address(value)


def _relaxed_address(value: str) -> bool:
    return bool(_ADDRESS_ANY_MARKER.search(value)) and bool(_HAN_RE.search(value))


_HAN_RE = re.compile(r"[\u4e00-\u9fff]")

# --- names -------------------------------------------------------------------------------------

_NAME_CELL = re.compile(r"[\u4e00-\u9fff]{2,4}")
_NAME_RELAXED = re.compile(r"[\u4e00-\u9fff]{2,6}|[\u4e00-\u9fff]{1,10}[·•][\u4e00-\u9fff]{1,10}")
_NAME_CUE = re.compile(
    r"(?:姓名|名字|联系人|户主|申请人|法定代表人|法人代表|负责人|经办人|监护人|收件人|收货人|"
    r"持卡人|当事人|患者|被保险人|投保人|驾驶人|车主)[:：\s]*(?:是|为)?[:：\s]*"
)


def _given_ok(given: str) -> bool:
    return 1 <= len(given) <= 2 and not any(ch in NOT_IN_GIVEN_NAMES for ch in given)


def is_name(value: str, *, relaxed: bool = False) -> bool:
    """A whole cell holding a Chinese personal name: a common surname (single or compound) and
    one or two given-name characters. ``relaxed`` (the column is headed 姓名/联系人…): also
    2–6 Chinese characters none of which is a typical non-name character (阿依古丽, but not
    已办结), or a transliterated name with a middle dot (买买提·艾力)."""
    if relaxed and _NAME_RELAXED.fullmatch(value) is not None and value not in NOT_NAMES:
        if "·" in value or "•" in value:
            return True
        if not any(ch in NOT_IN_GIVEN_NAMES for ch in value):
            return True
    if _NAME_CELL.fullmatch(value) is None or value in NOT_NAMES:
        return False
    if value[:2] in COMPOUND_SURNAMES and len(value) >= 3:
        given = value[2:]
    elif value[0] in SINGLE_SURNAMES:
        given = value[1:]
    else:
        return False
    return given not in TITLES and _given_ok(given)


def _name_after(text: str, pos: int) -> str | None:
    head = text[pos : pos + 4]
    if head[:2] in COMPOUND_SURNAMES:
        surname = head[:2]
    elif head[:1] in SINGLE_SURNAMES:
        surname = head[:1]
    else:
        return None
    given = ""
    for ch in text[pos + len(surname) : pos + len(surname) + 2]:
        if not "\u4e00" <= ch <= "\u9fff" or ch in NOT_IN_GIVEN_NAMES or ch in _ADDR_STOP:
            break
        given += ch
    if not given or given in TITLES or surname + given in NOT_NAMES:
        return None
    return surname + given


def _names(text: str) -> list[Match]:
    found = []
    for cue in _NAME_CUE.finditer(text):
        name = _name_after(text, cue.end())
        if name:
            found.append(Match("name", cue.end(), cue.end() + len(name), name))
    return found


# --- free text --------------------------------------------------------------------------------


def _scan(
    pattern: re.Pattern[str], kind: str, text: str, check: Callable[[str], bool] | None = None
) -> list[Match]:
    out = []
    for m in pattern.finditer(text):
        value = m.group()
        if check is None or check(value):
            out.append(Match(kind, m.start(), m.end(), value))
    return out


def _candidates(text: str) -> list[Match]:
    found: list[Match] = []
    has_digits = _DIGIT4.search(text) is not None
    if "@" in text:
        found += _scan(EMAIL_RE, "email", text)
    if has_digits:
        found += _scan(ID_RE, "id_card", text, is_valid_id_card)
        found += _scan(USCC_RE, "uscc", text, is_valid_uscc)
        found += _scan(PASSPORT_RE, "passport", text)
        found += _scan(PERMIT_RE, "permit", text)
        found += _scan(BANK_RE, "bank_card", text, is_valid_bank_card)
        found += _scan(MOBILE_RE, "mobile", text)
    if not text.isascii():
        found += _scan(PLATE_RE, "plate", text, _plate_ok)
        found += _addresses(text)
        found += _names(text)
    return found


def find_all(text: str) -> list[Match]:
    """Every identifier and piece of personal information in ``text``, in text order.
    Overlapping candidates are resolved by ``PRIORITY`` (an e-mail address wins over the
    mobile number that is its local part; a valid ID wins over the same digits as a card)."""
    found = _candidates(text)
    if len(found) < 2:
        return found
    found.sort(key=lambda m: (_RANK[m.type], m.start))
    # kept matches never overlap, so sorted by start they are sorted by end too
    starts: list[int] = []
    kept: list[Match] = []
    for m in found:
        i = bisect_left(starts, m.start)
        if i > 0 and kept[i - 1].end > m.start:
            continue
        if i < len(kept) and kept[i].start < m.end:
            continue
        starts.insert(i, m.start)
        kept.insert(i, m)
    return kept


# --- whole cells ------------------------------------------------------------------------------


def matches_value(kind: str, value: str, *, relaxed: bool = False) -> bool:
    """Whether the whole cell ``value`` (surrounding spaces ignored) is a value of ``kind``.
    ``relaxed`` is for a column whose header names the type: it admits 15-digit legacy ID
    numbers, and any plausible name or address, but never a wrong check digit."""
    v = value.strip()
    if kind == "id_card":
        return is_valid_id_card(v, legacy=relaxed)
    if kind == "uscc":
        v = v.upper()
        return len(v) == 18 and not is_valid_id_card(v) and is_valid_uscc(v)
    if kind == "bank_card":
        if not v.isdigit() and _BANK_GROUPED_FULL.fullmatch(v) is None:
            return False
        return not is_valid_id_card(v) and is_valid_bank_card(v)
    if kind == "mobile":
        return _MOBILE_FULL.fullmatch(v) is not None
    if kind == "email":
        return len(v) <= 254 and _EMAIL_FULL.fullmatch(v) is not None
    if kind == "plate":
        return _PLATE_FULL.fullmatch(v) is not None and _plate_ok(v)
    if kind == "passport":
        return _PASSPORT_FULL.fullmatch(v.upper()) is not None
    if kind == "permit":
        return _PERMIT_FULL.fullmatch(v.upper()) is not None
    if kind == "name":
        return is_name(v, relaxed=relaxed)
    if kind == "address":
        return is_address(v, relaxed=relaxed)
    raise ValueError(f"unknown type {kind!r}")


def _digit_types(v: str, hint: str | None) -> tuple[str, ...]:
    n = len(v)
    if n == 11:
        return ("mobile",) if v[0] == "1" and "3" <= v[1] <= "9" else ()
    if n == 18:
        if is_valid_id_card(v):
            return ("id_card",)
        if is_valid_uscc(v) and v[0] != "0":
            return ("uscc",)
        return ("bank_card",) if is_valid_bank_card(v) else ()
    if 16 <= n <= 19:
        return ("bank_card",) if is_valid_bank_card(v) else ()
    if n == 13 and v.startswith("86"):
        return ("mobile",) if _MOBILE_FULL.fullmatch("+" + v) else ()
    if n == 15 and hint == "id_card" and is_valid_id_card(v, legacy=True):
        return ("id_card",)
    return ()


def _ascii_types(v: str, hint: str | None) -> tuple[str, ...]:
    n = len(v)
    if "@" in v:
        if n <= 254 and _EMAIL_FULL.fullmatch(v):
            return ("email",)
        return _text_types(v)
    if n == 18:
        if is_valid_id_card(v):
            return ("id_card",)
        u = v.upper()
        if _USCC_FULL.fullmatch(u) and is_valid_uscc(u):
            return ("uscc",)
    if n in (9, 11) and v[0].isalpha():
        u = v.upper()
        if _PASSPORT_FULL.fullmatch(u):
            return ("passport",)
        if _PERMIT_FULL.fullmatch(u):
            return ("permit",)
        return ()
    if 13 <= n <= 23 and v[0] in "+0123456789":
        if _MOBILE_FULL.fullmatch(v):
            return ("mobile",)
        if _BANK_GROUPED_FULL.fullmatch(v) and is_valid_bank_card(v):
            return ("bank_card",)
    if n > 10 and _DIGIT4.search(v):
        return _text_types(v)
    return ()


_USCC_FULL = re.compile(_USCC)


def _text_types(v: str) -> tuple[str, ...]:
    kinds = {m.type for m in find_all(v)}
    return tuple(k for k in TYPES if k in kinds)


def detect_value(value: str, hint: str | None = None) -> tuple[str, ...]:
    """The types a cell holds: the type of the whole cell, or, for a longer text, the types of
    the identifiers inside it. ``hint`` is the type the column header suggests (relaxes the
    name and address checks and admits 15-digit legacy IDs; check digits still decide)."""
    v = value.strip()
    n = len(v)
    if n < 2:
        return ()
    if v.isascii():
        if v.isdigit():
            return _digit_types(v, hint)
        return _ascii_types(v, hint)
    if n <= 10:
        if v[0] in PLATE_PROVINCES and n >= 7 and _PLATE_FULL.fullmatch(v) and _plate_ok(v):
            return ("plate",)
        if is_name(v, relaxed=hint == "name"):
            return ("name",)
        if hint == "address" and is_address(v, relaxed=True):
            return ("address",)
        if n < 5:
            return ()
    kinds = {m.type for m in find_all(v)}
    if hint == "address" and "address" not in kinds and is_address(v, relaxed=True):
        kinds.add("address")
    if hint == "name" and "name" not in kinds and is_name(v, relaxed=True):
        kinds.add("name")
    return tuple(k for k in TYPES if k in kinds)
