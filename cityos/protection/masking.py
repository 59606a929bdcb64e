"""De-identification (GB/T 37964 families): masking, keyed pseudonyms, generalisation, suppression.

- ``mask(type, value)``: partial masking that keeps what a clerk needs to recognise a record
  (``4601**********1234``, ``138****8000``, ``************1234``, ``张*``/``欧阳**``,
  ``海口市美兰区****``, ``a***@x.com``).
- ``pseudonymize(value, key)``: HMAC-SM3 of the (normalised) value, hex. Stable for one key —
  use one key per data grant so that two grants cannot be joined — and unrelated across keys.
- generalisation: date → year, datetime → date (or year), age → 10-year band (90+ top-coded),
  point (lon, lat) → Haikou district code, address → up to the district.
- suppression → None.

``MaskingPolicy`` says which method each item gets (by type, by personal category or by grade)
and ``apply``/``apply_many`` run it over records; the per-field functions are worked out once per
(policy, item types) so masking 10,000 records is a tight loop.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from cityos.core.i18n import DISPLAY_TZ
from cityos.crypto.sm import hmac_sm3, stdlib_has_sm3
from cityos.protection.dictionaries import COMPOUND_SURNAMES
from cityos.protection.geo import district_of
from cityos.protection.grades import GRADES, TYPE_GRADES, grade_rank

METHODS = ("keep", "mask", "pseudonymize", "generalize", "suppress")
# item types beyond the detector types that have a generaliser
GENERAL_TYPES = ("date", "datetime", "age", "point")

# --- masking --------------------------------------------------------------------------------------


def mask_middle(value: str, keep_start: int, keep_end: int, star: str = "*") -> str:
    n = len(value)
    if n <= keep_start + keep_end:
        # too short to keep anything safely: keep at most the first character
        return value[:1] + star * (n - 1) if n > 1 else star * n
    return value[:keep_start] + star * (n - keep_start - keep_end) + value[n - keep_end :]


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def mask_id_card(value: str) -> str:
    return mask_middle(value.strip(), 4, 4)


def mask_mobile(value: str) -> str:
    digits = _digits(value)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    elif len(digits) == 15 and digits.startswith("0086"):
        digits = digits[4:]
    if len(digits) != 11:
        return mask_middle(value.strip(), 3, 2)
    return digits[:3] + "****" + digits[7:]


def mask_bank_card(value: str) -> str:
    digits = _digits(value)
    if len(digits) < 8:
        return "*" * len(value.strip())
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_name(value: str) -> str:
    v = value.strip()
    surname = v[:2] if v[:2] in COMPOUND_SURNAMES and len(v) > 2 else v[:1]
    return surname + "*" * (len(v) - len(surname))


# the administrative prefix of an address, up to the district/county (or city when no district)
_ADDRESS_PREFIX = re.compile(
    r"^(?:[^省市区县旗\s]{1,8}?(?:省|自治区|特别行政区))?"
    r"(?:[^省市区县旗\s]{1,8}?(?:市|自治州|地区|盟))?"
    r"(?:[^省市区县旗\s]{1,8}?(?:(?<![小社景校园厂片营])区|县|旗|市))?"
)


def address_prefix(value: str) -> str:
    """The part of an address down to the district: 海口市美兰区海甸岛… → 海口市美兰区."""
    m = _ADDRESS_PREFIX.match(value.strip())
    return m.group() if m else ""


def mask_address(value: str) -> str:
    v = value.strip()
    prefix = address_prefix(v)
    return v if prefix == v else prefix + "****"


def mask_email(value: str) -> str:
    v = value.strip()
    local, at, domain = v.rpartition("@")
    if not at:
        return mask_middle(v, 1, 0)
    return local[:1] + "***@" + domain


def mask_plate(value: str) -> str:
    return mask_middle(value.strip(), 2, 2)


def mask_document(value: str) -> str:
    """Passports and travel permits: the letter(s) and the last 3 digits."""
    v = value.strip()
    return mask_middle(v, 1, 3)


def mask_uscc(value: str) -> str:
    """统一社会信用代码: registration authority, type and region (8), and the check character."""
    return mask_middle(value.strip(), 8, 1)


MASKERS: dict[str, Callable[[str], str]] = {
    "id_card": mask_id_card,
    "mobile": mask_mobile,
    "bank_card": mask_bank_card,
    "name": mask_name,
    "address": mask_address,
    "email": mask_email,
    "plate": mask_plate,
    "passport": mask_document,
    "permit": mask_document,
    "uscc": mask_uscc,
}


def mask(kind: str, value: str) -> str:
    """Partial masking for a detector type (other types: keep the first and last character)."""
    masker = MASKERS.get(kind)
    return masker(value) if masker else mask_middle(value.strip(), 1, 1)


# --- pseudonyms -----------------------------------------------------------------------------------

def normalize(value: Any, kind: str | None = None) -> str:
    """The canonical text of a value before hashing, so that 138 0013 8000 and +8613800138000
    get the same pseudonym."""
    text = str(value).strip()
    if kind in ("id_card", "uscc", "passport", "permit", "plate"):
        return text.upper().replace(" ", "").replace("·", "")
    if kind == "mobile":
        digits = _digits(text)
        return digits[-11:] if len(digits) > 11 else digits
    if kind == "bank_card":
        return _digits(text)
    if kind == "email":
        return text.lower()
    return text


def pseudonymize(value: Any, key: bytes, kind: str | None = None) -> str:
    """Keyed pseudonym: hex HMAC-SM3 of the normalised value under ``key`` (64 hex digits)."""
    if not key:
        raise ValueError("a pseudonym needs a non-empty key")
    return hmac_sm3(key, normalize(value, kind).encode("utf-8")).hex()


class Pseudonymizer:
    """``pseudonymize`` for many values under one key: the keyed HMAC state is prepared once
    and copied per value (OpenSSL through the standard library; the same RFC 2104 HMAC-SM3 as
    ``cityos.crypto.hmac_sm3``, which is used when the standard library lacks SM3)."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("a pseudonym needs a non-empty key")
        self._key = key
        self._base = hmac.new(key, digestmod="sm3") if stdlib_has_sm3() else None

    def __call__(self, value: Any, kind: str | None = None) -> str:
        data = normalize(value, kind).encode("utf-8")
        if self._base is not None:
            h = self._base.copy()
            h.update(data)
            return h.hexdigest()
        return hmac_sm3(self._key, data).hex()


# --- generalisation ---------------------------------------------------------------------------------


def _as_datetime(value: Any) -> datetime | date | None:
    if isinstance(value, datetime | date):
        return value
    text = str(value).strip()
    if not text:
        return None
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        return datetime.fromisoformat(text.replace("/", "-").replace("Z", "+00:00"))
    except ValueError:
        return None


def _local(value: datetime | date) -> datetime | date:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(DISPLAY_TZ)
    return value


def generalize_date(value: Any) -> str | None:
    """A date (or anything with one) → its year, "1990"."""
    parsed = _as_datetime(value)
    if parsed is None:
        return None
    return f"{_local(parsed).year:04d}"


def generalize_datetime(value: Any, to: str = "date") -> str | None:
    """A timestamp → its date ("2024-01-01", in Asia/Shanghai when it has an offset), or with
    ``to="year"`` its year."""
    parsed = _as_datetime(value)
    if parsed is None:
        return None
    local = _local(parsed)
    if to == "year":
        return f"{local.year:04d}"
    day = local.date() if isinstance(local, datetime) else local
    return day.isoformat()


def age_band(value: Any, width: int = 10, top: int = 90) -> str | None:
    """An age → its band, "30-39"; ``top`` and above → "90+"."""
    try:
        age = int(float(str(value).strip()))
    except ValueError:
        return None
    if age < 0:
        return None
    if age >= top:
        return f"{top}+"
    low = age - age % width
    return f"{low}-{low + width - 1}"


def _lon_lat(value: Any) -> tuple[float, float] | None:
    try:
        if isinstance(value, Mapping):
            if "coordinates" in value:
                lon, lat = value["coordinates"][:2]
            else:
                lon = value.get("lon", value.get("lng", value.get("longitude")))
                lat = value.get("lat", value.get("latitude"))
        elif isinstance(value, str):
            lon, lat = (part.strip() for part in value.split(",")[:2])
        else:
            lon, lat = value[0], value[1]
        return float(lon), float(lat)
    except (TypeError, ValueError, KeyError, IndexError):
        return None


def generalize_point(value: Any) -> str | None:
    """(lon, lat), "lon,lat", {"lon":…, "lat":…} or a GeoJSON Point → Haikou district code
    ("460108"), None outside Haikou."""
    point = _lon_lat(value)
    return district_of(*point) if point else None


GENERALIZERS: dict[str, Callable[[Any], Any]] = {
    "date": generalize_date,
    "datetime": generalize_datetime,
    "age": age_band,
    "point": generalize_point,
    "address": lambda v: address_prefix(str(v)) or None,
}


# --- policy ---------------------------------------------------------------------------------------

DEFAULT_BY_GRADE: dict[str, str] = {
    "核心": "suppress",
    "重要": "mask",
    "一般-4": "mask",
    "一般-3": "mask",
    "一般-2": "keep",
    "一般-1": "keep",
}


@dataclass(frozen=True, eq=False)
class MaskingPolicy:
    """Which method an item gets. For an item of type T the first that applies wins:
    ``by_type[T]``, ``by_category[personal category of T]`` ("sensitive_personal" or
    "personal"), ``by_grade[suggested grade of T]``, ``default``. Methods: keep, mask,
    pseudonymize (needs ``key``), generalize (types without a generaliser are masked),
    suppress."""

    by_type: Mapping[str, str] = field(default_factory=dict)
    by_category: Mapping[str, str] = field(default_factory=dict)
    by_grade: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_BY_GRADE))
    default: str = "keep"
    key: bytes | None = None

    def __post_init__(self) -> None:
        for method in (
            *self.by_type.values(),
            *self.by_category.values(),
            *self.by_grade.values(),
            self.default,
        ):
            if method not in METHODS:
                raise ValueError(f"unknown masking method {method!r}; expected one of {METHODS}")
        uses_key = "pseudonymize" in (
            *self.by_type.values(),
            *self.by_category.values(),
            *self.by_grade.values(),
            self.default,
        )
        if uses_key and not self.key:
            raise ValueError("a policy that pseudonymizes needs a key")

    def method_for(self, kind: str | None) -> str:
        """``kind`` is a type, or ``type@grade`` / ``@grade`` when the item's confirmed grade
        is known (see ``split_kind``): the higher of the type's grade and the item's applies."""
        if kind is None:
            return self.default
        base, item_grade = split_kind(kind)
        if base in self.by_type:
            return self.by_type[base]
        entry = TYPE_GRADES.get(base)
        grade = entry.grade if entry is not None else None
        if entry is not None:
            category = entry.personal_category
            if category is not None and category in self.by_category:
                return self.by_category[category]
        if item_grade is not None and (grade is None or grade_rank(item_grade) > grade_rank(grade)):
            grade = item_grade
        if grade is not None and grade in self.by_grade:
            return self.by_grade[grade]
        return self.default


def split_kind(kind: str) -> tuple[str, str | None]:
    """Split an item kind: ``name@重要`` → ("name", "重要"), ``@核心`` → ("", "核心"),
    ``id_card`` → ("id_card", None). An unknown grade is ignored."""
    base, at, grade = kind.partition("@")
    if not at or grade not in GRADES:
        return base, None
    return base, grade


def _skip_empty(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def run(value: Any) -> Any:
        if value is None or value == "":
            return value
        return fn(value)

    return run


def _field_function(policy: MaskingPolicy, item_kind: str | None) -> Callable[[Any], Any] | None:
    method = policy.method_for(item_kind)
    kind = (split_kind(item_kind)[0] or None) if item_kind is not None else None
    if method == "keep":
        return None
    if method == "suppress":
        return lambda _value: None
    if method == "pseudonymize":
        assert policy.key is not None  # checked in __post_init__
        pseudo = Pseudonymizer(policy.key)
        return _skip_empty(lambda v: pseudo(v, kind))
    if method == "generalize" and kind in GENERALIZERS:
        return _skip_empty(GENERALIZERS[kind])
    if method == "mask" and kind in GENERAL_TYPES:
        # a date, an age or a point has no partial mask: masking it means generalising it
        return _skip_empty(GENERALIZERS[kind])
    masker = MASKERS.get(kind or "")
    if masker is not None:
        return _skip_empty(lambda v: masker(str(v)))
    return _skip_empty(lambda v: mask_middle(str(v).strip(), 1, 1))


@lru_cache(maxsize=128)
def field_functions(
    policy: MaskingPolicy, item_types: tuple[tuple[str, str | None], ...]
) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    steps = []
    for name, kind in item_types:
        fn = _field_function(policy, kind)
        if fn is not None:
            steps.append((name, fn))
    return tuple(steps)


def compile_plan(
    policy: MaskingPolicy, item_types: Mapping[str, str | None]
) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A function masking one record; fields not in ``item_types`` are kept as they are."""
    steps = field_functions(policy, tuple(sorted(item_types.items())))

    def run(record: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(record)
        for name, fn in steps:
            if name in out:
                out[name] = fn(out[name])
        return out

    return run


def apply(
    policy: MaskingPolicy, record: Mapping[str, Any], item_types: Mapping[str, str | None]
) -> dict[str, Any]:
    """A de-identified copy of ``record``; ``item_types`` maps field → type (a detector type
    or one of ``GENERAL_TYPES``, optionally with the item's grade: ``name@重要``, ``@核心``)."""
    return compile_plan(policy, item_types)(record)


def apply_many(
    policy: MaskingPolicy,
    records: Iterable[Mapping[str, Any]],
    item_types: Mapping[str, str | None],
) -> list[dict[str, Any]]:
    run = compile_plan(policy, item_types)
    return [run(record) for record in records]
