"""SM2 (GB/T 32918) through the binding: the default-ID Z value, and sign/verify."""

from typing import Any

import pytest

from cityos.crypto import (
    DEFAULT_ID,
    key_id,
    public_pem_of,
    sm2_digest,
    sm2_generate_keypair,
    sm2_sign,
    sm2_verify,
)
from cityos.crypto import sm2 as sm2_module

# GM/T 0003.5-2012 / GB/T 32918.5 example on the recommended curve, ID 1234567812345678
PRIVATE = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
PUBLIC_X = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
PUBLIC_Y = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
MESSAGE = b"message digest"
E = "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640"
R = 0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3
S = 0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA


def _der(r: int, s: int) -> bytes:
    def integer(v: int) -> bytes:
        body = v.to_bytes((v.bit_length() + 8) // 8, "big")
        return b"\x02" + bytes([len(body)]) + body

    body = integer(r) + integer(s)
    return b"\x30" + bytes([len(body)]) + body


def _standard_public_key() -> Any:
    from tongsuopy.crypto.asymciphers import ec

    point = bytes.fromhex("04" + PUBLIC_X + PUBLIC_Y)
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SM2(), point)


def test_z_value_and_digest_match_the_standard_example() -> None:
    assert DEFAULT_ID == b"1234567812345678"
    assert sm2_digest(_standard_public_key(), MESSAGE).hex().upper() == E


def test_binding_uses_the_default_id_the_standard_signature_verifies() -> None:
    """A signature from the standard (made with ID 1234567812345678) verifies: the binding
    computes Z with the default ID, so our signatures interoperate."""
    public = _standard_public_key()
    assert sm2_verify(public, MESSAGE, _der(R, S))
    assert not sm2_verify(public, MESSAGE + b"!", _der(R, S))
    assert not sm2_verify(public, MESSAGE, _der(R, S + 1))
    # and the same signature does not verify under another ID
    assert not sm2_verify(public, MESSAGE, _der(R, S), id=b"ALICE123@YAHOO.COM")


def test_standard_private_key_gives_the_standard_public_key() -> None:
    from tongsuopy.crypto.asymciphers import ec

    key = ec.derive_private_key(PRIVATE, ec.SM2())
    numbers = key.public_key().public_numbers()
    assert f"{numbers.x:064X}" == PUBLIC_X and f"{numbers.y:064X}" == PUBLIC_Y


def test_sign_verify_round_trip_and_tampering() -> None:
    private_pem, public_pem = sm2_generate_keypair()
    assert b"BEGIN PRIVATE KEY" in private_pem and b"BEGIN PUBLIC KEY" in public_pem
    assert public_pem_of(private_pem) == public_pem
    data = "海口市大数据管理局 audit head".encode()
    signature = sm2_sign(private_pem, data)
    assert sm2_verify(public_pem, data, signature)
    assert sm2_verify(private_pem, data, signature)  # a private PEM names its public key
    assert not sm2_verify(public_pem, data + b".", signature)
    changed = bytearray(signature)
    changed[-1] ^= 0x01
    assert not sm2_verify(public_pem, data, bytes(changed))
    assert not sm2_verify(public_pem, data, b"not a signature")
    assert not sm2_verify(b"not a key", data, signature)
    other = sm2_generate_keypair()
    assert not sm2_verify(other.public_pem, data, signature)
    assert key_id(public_pem) != key_id(other.public_pem) and len(key_id(public_pem)) == 64


def test_signatures_are_randomised() -> None:
    pair = sm2_generate_keypair()
    assert sm2_sign(pair.private_pem, b"x") != sm2_sign(pair.private_pem, b"x")


def test_other_distinguishing_id() -> None:
    pair = sm2_generate_keypair()
    signature = sm2_sign(pair.private_pem, b"data", id=b"ALICE123@YAHOO.COM")
    assert sm2_verify(pair.public_pem, b"data", signature, id=b"ALICE123@YAHOO.COM")
    assert not sm2_verify(pair.public_pem, b"data", signature)
    assert not sm2_verify(pair.public_pem, b"data!", signature, id=b"ALICE123@YAHOO.COM")


def test_own_z_computation_agrees_with_the_binding() -> None:
    """Signing e = SM3(Z || M) computed here gives signatures the binding's default-ID verify
    accepts: our Z (used for other IDs) is the binding's."""
    pair = sm2_generate_keypair()
    key = sm2_module._private(pair.private_pem)
    signature = sm2_module._sign_digest(key, sm2_digest(pair.public_pem, b"m"))
    assert sm2_verify(pair.public_pem, b"m", signature)


def test_rejects_non_sm2_keys() -> None:
    from cityos.crypto import CryptoError

    with pytest.raises(CryptoError):
        sm2_sign(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", b"x")
