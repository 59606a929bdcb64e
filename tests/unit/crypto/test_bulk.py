"""Bulk sealers/openers give the same blobs as the one-value functions, and refuse tampering."""

from __future__ import annotations

import os

import pytest

from cityos.crypto.envelope import decrypt_with, value_opener, value_sealer
from cityos.crypto.errors import DecryptionError
from cityos.crypto.sm import (
    sm4_gcm_decrypt,
    sm4_gcm_encrypt_with_nonce,
    sm4_gcm_opener,
    sm4_gcm_sealer,
)


def test_sealer_matches_the_public_api_and_opener_checks_the_tag() -> None:
    key, aad = os.urandom(16), b"ds/column"
    seal, open_ = sm4_gcm_sealer(key, aad), sm4_gcm_opener(key, aad)
    for text in (b"", b"4601", "张三丰".encode(), os.urandom(300)):
        nonce = os.urandom(12)
        raw = seal(nonce, text)
        assert raw == sm4_gcm_encrypt_with_nonce(key, nonce, text, aad)
        assert open_(nonce + raw) == text == sm4_gcm_decrypt(key, nonce + raw, aad)
        bad = bytearray(nonce + raw)
        bad[-1] ^= 1
        with pytest.raises(DecryptionError):
            open_(bytes(bad))
    with pytest.raises(DecryptionError):
        sm4_gcm_opener(key, b"other column")(nonce + raw)


def test_value_sealer_blobs_decrypt_with_the_envelope_format() -> None:
    key_id, key = "0f" * 16, os.urandom(16)
    blob = value_sealer(key_id, key, b"aad")(os.urandom(12), b"460100199001011234")
    assert blob[1:17].hex() == key_id
    assert decrypt_with(key, blob, b"aad") == b"460100199001011234"
    assert value_opener(key_id, key, b"aad")(blob) == b"460100199001011234"
    with pytest.raises(DecryptionError):
        value_opener("1e" * 16, key, b"aad")(blob)  # another key's blob
    with pytest.raises(DecryptionError):
        decrypt_with(key, blob, b"other")
