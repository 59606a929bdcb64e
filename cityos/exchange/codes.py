"""The text of an authorization code (接口授权码) and the HMAC that is kept of it.

Format, 69 characters, one token with no separator a copy/paste could cut::

    cos_ + key id (16 lowercase hex) + secret (43 base62) + checksum (6 base62)

- the key id (64 random bits) is public: it names the code in lists, logs and audit records;
- the secret is 256 random bits written in base62 (62^43 > 2^256), zero-padded to 43 characters;
- the checksum is the CRC32 of everything before it (``cos_`` + key id + secret), base62,
  zero-padded to 6 characters: a mistyped or truncated code is refused (``code_invalid``) before
  any database access. It is not a security feature; the secret is.

Only ``HMAC-SM3(pepper, secret)`` is stored. The pepper is 32 random bytes created once per
installation and kept envelope-encrypted in ``exchange_secrets`` (SM4-GCM under a data key
wrapped by the master key, ``CITYOS_MASTER_KEY``): a copy of the database alone does not allow
checking guesses, and a master-key rotation (rewrap) keeps every code valid.
"""

from __future__ import annotations

import re
import secrets
import threading
import weakref
import zlib
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityos.core.errors import ProblemError
from cityos.crypto.envelope import decrypt_value, encrypt_value
from cityos.crypto.sm import constant_time_equal, hmac_sm3

PREFIX = "cos_"
KEY_ID_LEN = 16
SECRET_LEN = 43
CHECKSUM_LEN = 6
CODE_LEN = len(PREFIX) + KEY_ID_LEN + SECRET_LEN + CHECKSUM_LEN  # 69
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_SHAPE = re.compile(r"^cos_[0-9a-f]{16}[0-9A-Za-z]{49}$")
PEPPER_NAME = "code_pepper"
PEPPER_PURPOSE = "exchange.code_pepper"


@dataclass(frozen=True, slots=True)
class ParsedCode:
    key_id: str
    secret: str


def base62(number: int, width: int) -> str:
    chars = []
    while number:
        number, rem = divmod(number, 62)
        chars.append(ALPHABET[rem])
    text = "".join(reversed(chars)).rjust(width, "0")
    if len(text) != width:
        raise ValueError("number too large for the width")
    return text


def checksum(body: str) -> str:
    return base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LEN)


def new_key_id() -> str:
    return secrets.token_hex(KEY_ID_LEN // 2)


def new_code(key_id: str | None = None) -> tuple[str, str, str]:
    """(plaintext code, key id, secret) of a fresh code."""
    key_id = key_id or new_key_id()
    secret = base62(int.from_bytes(secrets.token_bytes(32), "big"), SECRET_LEN)
    body = PREFIX + key_id + secret
    return body + checksum(body), key_id, secret


def code_invalid() -> ProblemError:
    return ProblemError(
        401,
        "code_invalid",
        "The authorization code is malformed (bad length, characters or checksum).",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def parse(text: str) -> ParsedCode:
    """Split a presented code; 401 ``code_invalid`` for a bad shape or checksum (no DB access)."""
    token = text.strip()
    if len(token) != CODE_LEN or not _SHAPE.match(token):
        raise code_invalid()
    body, given = token[:-CHECKSUM_LEN], token[-CHECKSUM_LEN:]
    if not constant_time_equal(checksum(body).encode(), given.encode()):
        raise code_invalid()
    return ParsedCode(token[4 : 4 + KEY_ID_LEN], token[4 + KEY_ID_LEN : -CHECKSUM_LEN])


def key_id_of(text: str) -> str | None:
    """The key id part of something that looks like a code (for the audit of a refusal)."""
    token = text.strip()
    if token.startswith(PREFIX) and re.fullmatch(r"[0-9a-f]{16}", token[4:20]):
        return token[4:20]
    return None


# ----------------------------------------------------------------------------- HMAC and pepper

_peppers: weakref.WeakKeyDictionary[Engine, bytes] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _engine_key(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def pepper(session: Session) -> bytes:
    """The installation's pepper (created on first use), cached per engine in this process."""
    key = _engine_key(session)
    cached = _peppers.get(key)
    if cached is not None:
        return cached
    from cityos.exchange.models import ExchangeSecret

    with _lock:
        row = session.get(ExchangeSecret, PEPPER_NAME)
        if row is None:
            value = encrypt_value(session, PEPPER_PURPOSE, secrets.token_bytes(32))
            try:
                with session.begin_nested():
                    session.add(ExchangeSecret(name=PEPPER_NAME, value=value))
            except IntegrityError:  # another process created it first
                pass
            row = session.get(ExchangeSecret, PEPPER_NAME)
            assert row is not None
        plain = decrypt_value(session, row.value)
        _peppers[key] = plain
        return plain


def secret_hmac(pepper_key: bytes, secret: str) -> bytes:
    return hmac_sm3(pepper_key, secret.encode("ascii"))


def secret_matches(pepper_key: bytes, secret: str, stored: bytes) -> bool:
    return constant_time_equal(secret_hmac(pepper_key, secret), stored)
