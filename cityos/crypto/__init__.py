"""National cryptography (商用密码) for CityOS: SM3, HMAC-SM3, SM4-GCM (RFC 8998), SM2.

SM3/SM4 come from pyca ``cryptography``; SM2 from ``tongsuopy``. Envelope encryption of
values (data keys wrapped by a master key) lives in ``cityos.crypto.envelope``.
"""

from cityos.crypto.errors import CryptoError, DecryptionError, KeyUnavailableError
from cityos.crypto.sm import (
    hmac_sm3,
    sm3,
    sm4_encrypt_block,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
    sm4_gcm_encrypt_with_nonce,
)
from cityos.crypto.sm2 import (
    DEFAULT_ID,
    SM2KeyPair,
    key_id,
    public_pem_of,
    sm2_digest,
    sm2_generate_keypair,
    sm2_sign,
    sm2_verify,
    sm2_z,
)

__all__ = [
    "DEFAULT_ID",
    "CryptoError",
    "DecryptionError",
    "KeyUnavailableError",
    "SM2KeyPair",
    "hmac_sm3",
    "key_id",
    "public_pem_of",
    "sm2_digest",
    "sm2_generate_keypair",
    "sm2_sign",
    "sm2_verify",
    "sm2_z",
    "sm3",
    "sm4_encrypt_block",
    "sm4_gcm_decrypt",
    "sm4_gcm_encrypt",
    "sm4_gcm_encrypt_with_nonce",
]
