"""The text of a code: format, checksum, parser (no database)."""

from __future__ import annotations

import re

import pytest

from cityos.core.errors import ProblemError
from cityos.exchange import codes


def test_format_is_one_token_of_fixed_length() -> None:
    plaintext, key_id, secret = codes.new_code()
    assert len(plaintext) == codes.CODE_LEN == 69
    assert re.fullmatch(r"cos_[0-9a-f]{16}[0-9A-Za-z]{49}", plaintext)
    assert plaintext[4:20] == key_id and plaintext[20:63] == secret
    assert len(secret) == 43  # 256 bits in base62


def test_secrets_carry_256_random_bits() -> None:
    secrets = {codes.new_code()[2] for _ in range(200)}
    assert len(secrets) == 200
    values = [int.from_bytes(bytes(codes.ALPHABET.index(c) for c in s), "big") for s in secrets]
    assert len(set(values)) == 200


def test_parse_gives_key_id_and_secret() -> None:
    plaintext, key_id, secret = codes.new_code()
    parsed = codes.parse(f"  {plaintext}\n")
    assert (parsed.key_id, parsed.secret) == (key_id, secret)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"),  # checksum
        lambda t: t[:30] + ("A" if t[30] != "A" else "B") + t[31:],  # a secret character
        lambda t: t[:-1],  # truncated
        lambda t: "cos-" + t[4:],  # prefix
        lambda t: t.upper(),  # key id is lowercase
        lambda t: t[:10] + "_" + t[11:],
        lambda t: "",
    ],
)
def test_a_damaged_code_is_refused_as_invalid(mangle: object) -> None:
    plaintext, _k, _s = codes.new_code()
    with pytest.raises(ProblemError) as caught:
        codes.parse(mangle(plaintext))  # type: ignore[operator]
    assert caught.value.status == 401 and caught.value.code == "code_invalid"


def test_checksum_is_crc32_in_base62() -> None:
    import zlib

    plaintext, _k, _s = codes.new_code()
    body = plaintext[:-6]
    assert plaintext[-6:] == codes.base62(zlib.crc32(body.encode()), 6)


def test_hmac_is_keyed_by_the_pepper() -> None:
    assert codes.secret_hmac(b"a" * 32, "x") != codes.secret_hmac(b"b" * 32, "x")
    assert codes.secret_matches(b"a" * 32, "x", codes.secret_hmac(b"a" * 32, "x"))
    assert not codes.secret_matches(b"a" * 32, "y", codes.secret_hmac(b"a" * 32, "x"))
