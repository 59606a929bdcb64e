"""Check characters and code tables: 统一社会信用代码 (GB 32100) and districts (GB/T 2260)."""

from __future__ import annotations

from cityos.core.i18n import gettext

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

DISTRICTS: dict[str, str] = {
    "460000": "海南省",
    "460100": "海口市",
    "460105": "秀英区",
    "460106": "龙华区",
    "460107": "琼山区",
    "460108": "美兰区",
}
DISTRICT_NAMES_EN: dict[str, str] = {
    "460000": "Hainan Province",
    "460100": "Haikou City",
    "460105": "Xiuying District",
    "460106": "Longhua District",
    "460107": "Qiongshan District",
    "460108": "Meilan District",
}


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """Why ``code`` is not a valid 统一社会信用代码 (in the current locale), or None when it is."""
    if len(code) != 18:
        return gettext("must be 18 characters")
    bad = [c for c in code if c not in USCC_ALPHABET]
    if bad:
        return gettext("invalid character {char} (I, O, S, V, Z are not used)", char=repr(bad[0]))
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return gettext("check character should be {char}", char=expected)
    return None


def is_valid_uscc(code: str) -> bool:
    return uscc_problem(code) is None


def make_uscc(body17: str) -> str:
    return body17 + uscc_check_char(body17)


def district_name(code: str, locale: str = "zh_Hans") -> str:
    table = DISTRICTS if locale != "en" else DISTRICT_NAMES_EN
    return table.get(code, code)
