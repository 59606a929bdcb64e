"""Known-answer tests for SM3, HMAC-SM3, SM4 and SM4-GCM (RFC 8998), and tamper detection."""

import hashlib
import hmac

import pytest

from cityos.crypto import (
    CryptoError,
    DecryptionError,
    hmac_sm3,
    sm3,
    sm4_encrypt_block,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
    sm4_gcm_encrypt_with_nonce,
)


def test_sm3_standard_vectors() -> None:
    # GB/T 32905-2016 Appendix A, examples 1 and 2
    assert sm3(b"abc").hex() == ("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
    assert sm3(b"abcd" * 16).hex() == (
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    )


def test_hmac_sm3_is_rfc2104_over_sm3() -> None:
    key, message = b"k" * 20, b"what the audit log said"
    # RFC 2104 built by hand from the SM3 primitive (block size 64)
    padded = key.ljust(64, b"\0")
    inner = sm3(bytes(b ^ 0x36 for b in padded) + message)
    expected = sm3(bytes(b ^ 0x5C for b in padded) + inner)
    assert hmac_sm3(key, message) == expected
    assert hmac_sm3(key, message) != hmac_sm3(key, message + b"!")
    if "sm3" in hashlib.algorithms_available:
        assert hmac.new(key, message, "sm3").digest() == expected


def test_sm4_block_vector() -> None:
    # GB/T 32907-2016 Appendix A, example 1
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    assert sm4_encrypt_block(key, key).hex() == "681edf34d206965e86b3e94f536e4246"


RFC8998_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
RFC8998_NONCE = bytes.fromhex("00001234567800000000ABCD")
RFC8998_AAD = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
RFC8998_PLAINTEXT = bytes.fromhex(
    "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
    "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
)
RFC8998_CIPHERTEXT = bytes.fromhex(
    "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
    "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
)
RFC8998_TAG = bytes.fromhex("83DE3541E4C2B58177E065A9BF7B62EC")


def test_sm4_gcm_rfc8998_appendix_a1() -> None:
    out = sm4_gcm_encrypt_with_nonce(RFC8998_KEY, RFC8998_NONCE, RFC8998_PLAINTEXT, RFC8998_AAD)
    assert out == RFC8998_CIPHERTEXT + RFC8998_TAG
    blob = RFC8998_NONCE + RFC8998_CIPHERTEXT + RFC8998_TAG
    assert sm4_gcm_decrypt(RFC8998_KEY, blob, RFC8998_AAD) == RFC8998_PLAINTEXT


def test_sm4_gcm_round_trip_uses_fresh_nonces() -> None:
    key = bytes(range(16))
    a = sm4_gcm_encrypt(key, b"hello", b"ctx")
    b = sm4_gcm_encrypt(key, b"hello", b"ctx")
    assert a != b and a[:12] != b[:12]
    assert len(a) == 12 + 5 + 16
    assert sm4_gcm_decrypt(key, a, b"ctx") == b"hello"
    assert sm4_gcm_decrypt(key, sm4_gcm_encrypt(key, b""), b"") == b""


@pytest.mark.parametrize("where", ["nonce", "ciphertext", "tag"])
def test_sm4_gcm_detects_tampering(where: str) -> None:
    key = bytes(range(16))
    blob = bytearray(sm4_gcm_encrypt(key, b"core data: 12345", b"row-1"))
    position = {"nonce": 0, "ciphertext": 14, "tag": len(blob) - 1}[where]
    blob[position] ^= 0x01
    with pytest.raises(DecryptionError, match="altered"):
        sm4_gcm_decrypt(key, bytes(blob), b"row-1")


def test_sm4_gcm_detects_wrong_aad_key_and_truncation() -> None:
    key = bytes(range(16))
    blob = sm4_gcm_encrypt(key, b"secret", b"row-1")
    with pytest.raises(DecryptionError):
        sm4_gcm_decrypt(key, blob, b"row-2")
    with pytest.raises(DecryptionError):
        sm4_gcm_decrypt(bytes(16), blob, b"row-1")
    with pytest.raises(DecryptionError, match="too short"):
        sm4_gcm_decrypt(key, blob[:20])
    with pytest.raises(CryptoError):
        sm4_gcm_encrypt(b"short", b"x")
