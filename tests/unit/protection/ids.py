"""Independent check-digit implementations for the tests (not the product code's).

GB 11643: weight of the digit at position i counted from the right (i = 18 … 2) is
2^(i-1) mod 11; the check value is (12 - sum mod 11) mod 11, 10 written X.
GB 32100: weight of position i (1 … 17) is 3^(i-1) mod 31 over the 31-symbol alphabet; the check
is (31 - sum mod 31) mod 31. Luhn: double every second digit from the right.
"""

from __future__ import annotations

USCC_SYMBOLS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def id_check(first17: str) -> str:
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def make_id(region: str, birth: str, seq: str) -> str:
    body = region + birth + seq
    assert len(body) == 17
    return body + id_check(body)


def wrong_id(valid: str) -> str:
    """The same number with a different (wrong) check character."""
    wrong = "0" if valid[-1] != "0" else "1"
    return valid[:17] + wrong


def uscc_check(first17: str) -> str:
    total = sum(USCC_SYMBOLS.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return USCC_SYMBOLS[(31 - total % 31) % 31]


def make_uscc(first17: str) -> str:
    return first17 + uscc_check(first17)


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # these are doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def make_card(body: str) -> str:
    return body + luhn_digit(body)
