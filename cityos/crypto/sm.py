"""SM3 and SM4 (GB/T 32905, GB/T 32907) from pyca ``cryptography`` (OpenSSL).

SM4-GCM follows RFC 8998: a 16-byte key, a 12-byte nonce and a 16-byte tag. Blobs from
``sm4_gcm_encrypt`` are ``nonce (12) || ciphertext || tag (16)``.
"""

from __future__ import annotations

import hmac as _hmac
import os
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from cityos.crypto.errors import CryptoError, DecryptionError

SM3_DIGEST_SIZE = 32
SM4_KEY_SIZE = 16
SM4_BLOCK_SIZE = 16
GCM_NONCE_SIZE = 12
GCM_TAG_SIZE = 16

_SM3 = hashes.SM3()


def sm3(data: bytes) -> bytes:
    """SM3 digest (32 bytes)."""
    digest = hashes.Hash(_SM3)
    digest.update(data)
    return digest.finalize()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """HMAC with SM3 (RFC 2104 construction, 32 bytes)."""
    mac = _crypto_hmac.HMAC(key, _SM3)
    mac.update(data)
    return mac.finalize()


@lru_cache(maxsize=1)
def stdlib_has_sm3() -> bool:
    """Whether ``hmac``/``hashlib`` of the standard library reach SM3 (OpenSSL 1.1.1+): their
    per-call cost is lower, so hot loops (pseudonyms, blind indexes) use them when they can."""
    try:
        _hmac.new(b"k", b"", "sm3")
    except (ValueError, TypeError):
        return False
    return True


def constant_time_equal(a: bytes, b: bytes) -> bool:
    return _hmac.compare_digest(a, b)


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes | bytearray) or len(key) != SM4_KEY_SIZE:
        raise CryptoError("an SM4 key is exactly 16 bytes")


def sm4_encrypt_block(key: bytes, block: bytes) -> bytes:
    """One raw SM4 block (the GB/T 32907 primitive; for known-answer tests only)."""
    _check_key(key)
    if len(block) != SM4_BLOCK_SIZE:
        raise CryptoError("an SM4 block is exactly 16 bytes")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


def sm4_gcm_encrypt_with_nonce(
    key: bytes, nonce: bytes, plaintext: bytes, aad: bytes = b""
) -> bytes:
    """SM4-GCM with a caller-chosen nonce: ``ciphertext || tag``. Never reuse a nonce under a key."""
    _check_key(key)
    if len(nonce) != GCM_NONCE_SIZE:
        raise CryptoError("an SM4-GCM nonce is 12 bytes (RFC 8998)")
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    if aad:
        encryptor.authenticate_additional_data(aad)
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    return ciphertext + encryptor.tag


def sm4_gcm_sealer(key: bytes, aad: bytes = b"") -> Callable[[bytes, bytes], bytes]:
    """``sm4_gcm_encrypt_with_nonce`` for many values under one key and associated data:
    ``seal(nonce, plaintext) -> ciphertext || tag``, the key schedule object made once. Each
    nonce must be fresh (12 random bytes)."""
    _check_key(key)
    algorithm = algorithms.SM4(key)
    gcm = modes.GCM
    context = _fast_context() or (lambda alg, mode: Cipher(alg, mode).encryptor())

    def seal(nonce: bytes, plaintext: bytes) -> bytes:
        if len(nonce) != GCM_NONCE_SIZE:
            raise CryptoError("an SM4-GCM nonce is 12 bytes (RFC 8998)")
        encryptor = context(algorithm, gcm(nonce))
        if aad:
            encryptor.authenticate_additional_data(aad)
        return encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag

    return seal


def sm4_gcm_opener(key: bytes, aad: bytes = b"") -> Callable[[bytes], bytes]:
    """``sm4_gcm_decrypt`` for many blobs (``nonce || ciphertext || tag``) under one key and
    associated data; raises DecryptionError as it does."""
    _check_key(key)
    algorithm = algorithms.SM4(key)
    gcm = modes.GCM
    context = _fast_context(decrypt=True) or (lambda alg, mode: Cipher(alg, mode).decryptor())

    def open_(blob: bytes) -> bytes:
        if len(blob) < GCM_NONCE_SIZE + GCM_TAG_SIZE:
            raise DecryptionError("SM4-GCM blob too short: it needs a nonce and a tag")
        decryptor = context(algorithm, gcm(blob[:GCM_NONCE_SIZE], blob[-GCM_TAG_SIZE:]))
        if aad:
            decryptor.authenticate_additional_data(aad)
        try:
            return decryptor.update(blob[GCM_NONCE_SIZE:-GCM_TAG_SIZE]) + decryptor.finalize()
        except InvalidTag:
            raise DecryptionError("SM4-GCM authentication failed") from None

    return open_


_FAST: dict[bool, Any] = {}


def _fast_context(*, decrypt: bool = False) -> Any:
    """pyca's Rust cipher context without ``Cipher``'s per-call Python checks (2× faster for
    short values), when this ``cryptography`` has it and it gives the known answer; else None
    (the public API is used)."""
    if decrypt not in _FAST:
        found: Any = None
        try:
            from cryptography.hazmat.bindings._rust import openssl as rust_openssl

            key, nonce, data, aad = bytes(16), bytes(12), b"cityos", b"kat"
            blob = sm4_gcm_encrypt_with_nonce(key, nonce, data, aad)
            ciphers: Any = rust_openssl.ciphers
            if decrypt:
                create = ciphers.create_decryption_ctx
                ctx = create(algorithms.SM4(key), modes.GCM(nonce, blob[-GCM_TAG_SIZE:]))
                ctx.authenticate_additional_data(aad)
                ok = ctx.update(blob[:-GCM_TAG_SIZE]) + ctx.finalize() == data
            else:
                create = ciphers.create_encryption_ctx
                ctx = create(algorithms.SM4(key), modes.GCM(nonce))
                ctx.authenticate_additional_data(aad)
                ok = ctx.update(data) + ctx.finalize() + ctx.tag == blob
            found = create if ok else None
        except Exception:  # any problem: use the public API
            found = None
        _FAST[decrypt] = found
    return _FAST[decrypt]


def sm4_gcm_encrypt(key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """SM4-GCM (RFC 8998) with a fresh random 12-byte nonce: ``nonce || ciphertext || tag``."""
    nonce = os.urandom(GCM_NONCE_SIZE)
    return nonce + sm4_gcm_encrypt_with_nonce(key, nonce, plaintext, aad)


def sm4_gcm_decrypt(key: bytes, blob: bytes, aad: bytes = b"") -> bytes:
    """Decrypt ``nonce || ciphertext || tag``; raises DecryptionError when anything was altered."""
    _check_key(key)
    if len(blob) < GCM_NONCE_SIZE + GCM_TAG_SIZE:
        raise DecryptionError("SM4-GCM blob too short: it needs a 12-byte nonce and a 16-byte tag")
    nonce = blob[:GCM_NONCE_SIZE]
    tag = blob[-GCM_TAG_SIZE:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    if aad:
        decryptor.authenticate_additional_data(aad)
    try:
        return decryptor.update(blob[GCM_NONCE_SIZE:-GCM_TAG_SIZE]) + decryptor.finalize()
    except InvalidTag:
        raise DecryptionError(
            "SM4-GCM authentication failed: the ciphertext, nonce, tag or associated data "
            "was altered, or the key is wrong"
        ) from None
