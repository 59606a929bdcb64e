"""SM2 signatures (GB/T 32918) through ``tongsuopy`` (Tongsuo, the OpenSSL fork with SM2).

Signatures are DER ``SEQUENCE {r, s}`` over ``e = SM3(Z_A || M)`` where
``Z_A = SM3(ENTL || ID || a || b || x_G || y_G || x_A || y_A)``. With the default ID
``1234567812345678`` the binding's own ``EVP_DigestSign`` computes Z_A (a known-answer test
against the GM/T 0003.5 example proves it); for any other ID we compute ``e`` here and sign
it with ``EVP_PKEY_sign``. Nonces come from Tongsuo's DRBG, never from Python's ``random``.
Keys travel as PEM: PKCS#8 private keys and SubjectPublicKeyInfo public keys.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from tongsuopy.crypto import hashes as _t_hashes
from tongsuopy.crypto import serialization as _t_ser
from tongsuopy.crypto.asymciphers import ec as _t_ec
from tongsuopy.crypto.exceptions import InvalidSignature as _InvalidSignature

from cityos.crypto.errors import CryptoError
from cityos.crypto.sm import sm3

DEFAULT_ID = b"1234567812345678"

# GB/T 32918.5 recommended curve parameters.
_P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
_A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
_B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
_GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
_GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0
_CURVE_PREFIX = b"".join(v.to_bytes(32, "big") for v in (_A, _B, _GX, _GY))


class SM2KeyPair(NamedTuple):
    """PEM-encoded key pair; unpacks as ``private_pem, public_pem``."""

    private_pem: bytes
    public_pem: bytes


KeyInput = bytes | str | Any


def sm2_generate_keypair() -> SM2KeyPair:
    """A fresh SM2 key pair from Tongsuo's DRBG."""
    key = _t_ec.generate_private_key(_t_ec.SM2())
    private_pem = key.private_bytes(
        _t_ser.Encoding.PEM, _t_ser.PrivateFormat.PKCS8, _t_ser.NoEncryption()
    )
    return SM2KeyPair(private_pem, _public_pem(key.public_key()))


def _public_pem(public_key: Any) -> bytes:
    return bytes(
        public_key.public_bytes(_t_ser.Encoding.PEM, _t_ser.PublicFormat.SubjectPublicKeyInfo)
    )


def public_pem_of(private_key: KeyInput) -> bytes:
    """The SubjectPublicKeyInfo PEM of a private key."""
    return _public_pem(_private(private_key).public_key())


def public_der_of(public_key: KeyInput) -> bytes:
    return bytes(
        _public(public_key).public_bytes(
            _t_ser.Encoding.DER, _t_ser.PublicFormat.SubjectPublicKeyInfo
        )
    )


def key_id(public_key: KeyInput) -> str:
    """SM3 fingerprint (hex) of the SubjectPublicKeyInfo DER: names a signing key."""
    return sm3(public_der_of(public_key)).hex()


def _as_bytes(value: bytes | str) -> bytes:
    return value.encode("ascii") if isinstance(value, str) else bytes(value)


@lru_cache(maxsize=32)
def _load_private(pem: bytes) -> Any:
    try:
        key = _t_ser.load_pem_private_key(pem, password=None)
    except Exception as exc:
        raise CryptoError("not an unencrypted PEM SM2 private key") from exc
    if not isinstance(key.curve, _t_ec.SM2):
        raise CryptoError("not an SM2 key")
    return key


@lru_cache(maxsize=64)
def _load_public(pem: bytes) -> Any:
    try:
        key = _t_ser.load_pem_public_key(pem)
    except Exception as exc:
        raise CryptoError("not a PEM SM2 public key") from exc
    if not isinstance(key.curve, _t_ec.SM2):
        raise CryptoError("not an SM2 key")
    return key


def _private(key: KeyInput) -> Any:
    if isinstance(key, bytes | str):
        return _load_private(_as_bytes(key))
    return key


def _public(key: KeyInput) -> Any:
    if isinstance(key, bytes | str):
        pem = _as_bytes(key)
        if b"PRIVATE KEY" in pem:
            return _load_private(pem).public_key()
        return _load_public(pem)
    if hasattr(key, "public_key"):
        return key.public_key()
    return key


def _check_id(ident: bytes) -> None:
    if len(ident) * 8 > 0xFFFF:
        raise CryptoError("an SM2 distinguishing ID is at most 8191 bytes")


def sm2_z(public_key: KeyInput, ident: bytes = DEFAULT_ID) -> bytes:
    """Z_A = SM3(ENTL || ID || a || b || x_G || y_G || x_A || y_A) (GB/T 32918.2 §5.5)."""
    _check_id(ident)
    numbers = _public(public_key).public_numbers()
    return sm3(
        (len(ident) * 8).to_bytes(2, "big")
        + ident
        + _CURVE_PREFIX
        + numbers.x.to_bytes(32, "big")
        + numbers.y.to_bytes(32, "big")
    )


def sm2_digest(public_key: KeyInput, data: bytes, ident: bytes = DEFAULT_ID) -> bytes:
    """e = SM3(Z_A || M): what an SM2 signature actually signs."""
    return sm3(sm2_z(public_key, ident) + data)


def _signature_algorithm() -> Any:
    return _t_ec.ECDSA(_t_hashes.SM3())


def sm2_sign(private_key: KeyInput, data: bytes, id: bytes = DEFAULT_ID) -> bytes:
    """DER signature over SM3(Z_A || data) with distinguishing ID ``id``."""
    key = _private(private_key)
    if id == DEFAULT_ID:
        return bytes(key.sign(data, _signature_algorithm()))
    return _sign_digest(key, sm2_digest(key.public_key(), data, id))


def sm2_verify(
    public_key: KeyInput,
    data: bytes,
    signature: bytes,
    id: bytes = DEFAULT_ID,
) -> bool:
    """True when ``signature`` is a valid SM2 signature of ``data`` under ``public_key``/``id``."""
    try:
        key = _public(public_key)
    except CryptoError:
        return False
    if id == DEFAULT_ID:
        try:
            key.verify(signature, data, _signature_algorithm())
        except _InvalidSignature:
            return False
        except Exception:  # the binding raises its internal error on malformed DER
            _backend()._consume_errors()
            return False
        return True
    try:
        return _verify_digest(key, sm2_digest(key, data, id), signature)
    except CryptoError:
        return False


def _backend() -> Any:
    from tongsuopy.backends.tongsuo import backend

    return backend


def _sign_digest(key: Any, digest: bytes) -> bytes:
    """Sign a precomputed e with EVP_PKEY_sign (the SM2 provider treats the input as e)."""
    backend = _backend()
    lib, ffi = backend._lib, backend._ffi
    ctx = ffi.gc(lib.EVP_PKEY_CTX_new(key._evp_pkey, ffi.NULL), lib.EVP_PKEY_CTX_free)
    if ctx == ffi.NULL or lib.EVP_PKEY_sign_init(ctx) != 1:
        backend._consume_errors()
        raise CryptoError("SM2 signing could not start")
    size = ffi.new("size_t *")
    if lib.EVP_PKEY_sign(ctx, ffi.NULL, size, digest, len(digest)) != 1:
        backend._consume_errors()
        raise CryptoError("SM2 signing failed")
    buf = ffi.new("unsigned char[]", size[0])
    if lib.EVP_PKEY_sign(ctx, buf, size, digest, len(digest)) != 1:
        backend._consume_errors()
        raise CryptoError("SM2 signing failed")
    return bytes(ffi.buffer(buf)[: size[0]])


def _verify_digest(key: Any, digest: bytes, signature: bytes) -> bool:
    backend = _backend()
    lib, ffi = backend._lib, backend._ffi
    ctx = ffi.gc(lib.EVP_PKEY_CTX_new(key._evp_pkey, ffi.NULL), lib.EVP_PKEY_CTX_free)
    if ctx == ffi.NULL or lib.EVP_PKEY_verify_init(ctx) != 1:
        backend._consume_errors()
        raise CryptoError("SM2 verification could not start")
    result = lib.EVP_PKEY_verify(ctx, signature, len(signature), digest, len(digest))
    backend._consume_errors()
    return bool(result == 1)
