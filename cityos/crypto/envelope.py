"""Envelope encryption for columns graded 核心/重要: SM4-GCM data keys wrapped by a master key.

Usage (e.g. by the datastore, for a column whose grade needs encryption at rest)::

    from cityos.crypto.envelope import encrypt_value, decrypt_value

    blob = encrypt_value(session, "ds:<resource id>:<column>", value.encode(), aad=row_key)
    ...
    value = decrypt_value(session, blob, aad=row_key).decode()

``purpose`` names a key family (one data key is current per purpose; rotate it with
``rotate_data_key``). ``aad`` binds a blob to its place (table, column, row key): a blob copied
to another row then fails to decrypt. The blob is self-describing::

    0x01 (format) || data key id (16) || nonce (12) || ciphertext || tag (16)

so decryption needs no other column, and a rotated (retired) key still decrypts its old blobs.
Master key rotation re-wraps only the data keys (``rewrap_master``); no blob is rewritten.

The master keyring comes from the settings of the app (``configure(engine, settings)``, done by
the app factory) or, for scripts, from the ``CITYOS_*`` environment. Unwrapped data keys are
cached in memory per process; another process sees a rotation within ``CURRENT_KEY_TTL``
seconds (its old current key keeps working meanwhile: no downtime).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.crypto.errors import CryptoError, DecryptionError, KeyUnavailableError
from cityos.crypto.keyring import MasterKeyring, master_key_version
from cityos.crypto.models import DataKey
from cityos.crypto.sm import (
    GCM_NONCE_SIZE,
    GCM_TAG_SIZE,
    SM4_KEY_SIZE,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
    sm4_gcm_opener,
    sm4_gcm_sealer,
)

if TYPE_CHECKING:
    from cityos.config import Settings

BLOB_VERSION = 1
KEY_ID_SIZE = 16
HEADER_SIZE = 1 + KEY_ID_SIZE
CURRENT_KEY_TTL = 60.0

_lock = threading.Lock()
_data_keys: dict[str, bytes] = {}  # key id (hex) -> unwrapped key; ids are random, never reused
# engine -> purpose -> (cached at, key id, key): only keys whose transaction has committed
_current: weakref.WeakKeyDictionary[Engine, dict[str, tuple[float, str, bytes]]] = (
    weakref.WeakKeyDictionary()
)
_keyrings: weakref.WeakKeyDictionary[Engine, Any] = weakref.WeakKeyDictionary()
_env_keyring: MasterKeyring | None = None
_PENDING = "cityos_crypto_pending"


# ----------------------------------------------------------------------------- master keyring


def configure(engine: Engine, source: Settings | MasterKeyring) -> None:
    """Use this master keyring (or the one these settings describe, loaded lazily) for ``engine``."""
    _keyrings[engine] = source


def keyring_for(session: Session) -> MasterKeyring:
    global _env_keyring
    engine = _engine(session)
    source = _keyrings.get(engine)
    if isinstance(source, MasterKeyring):
        return source
    if source is not None:
        ring = MasterKeyring.from_settings(source)
        _keyrings[engine] = ring
        return ring
    if _env_keyring is None:
        from cityos.config import Settings

        _env_keyring = MasterKeyring.from_settings(Settings())
    return _env_keyring


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


# ----------------------------------------------------------------------------- wrapping


def _wrap_aad(key_id: str, purpose: str) -> bytes:
    return b"cityos/data-key/v1\x00" + bytes.fromhex(key_id) + b"\x00" + purpose.encode()


def _wrap(master: bytes, key_id: str, purpose: str, data_key: bytes) -> bytes:
    return sm4_gcm_encrypt(master, data_key, _wrap_aad(key_id, purpose))


def _unwrap(ring: MasterKeyring, row: DataKey) -> bytes:
    master = ring.get(row.master_key_version)
    try:
        key = sm4_gcm_decrypt(master, row.wrapped_key, _wrap_aad(row.id, row.purpose))
    except DecryptionError:
        raise DecryptionError(
            f"data key {row.id} does not unwrap: altered or wrong master"
        ) from None
    if len(key) != SM4_KEY_SIZE:
        raise DecryptionError(f"data key {row.id} has the wrong length")
    return key


def _new_key(session: Session, purpose: str) -> tuple[str, bytes]:
    ring = keyring_for(session)
    key_id = uuid.uuid4().hex
    data_key = os.urandom(SM4_KEY_SIZE)
    session.add(
        DataKey(
            id=key_id,
            purpose=purpose,
            wrapped_key=_wrap(ring.current, key_id, purpose, data_key),
            master_key_version=ring.current_version,
            created_at=utcnow(),
        )
    )
    with _lock:
        _data_keys[key_id] = data_key
    return key_id, data_key


# ----------------------------------------------------------------------------- current key


def _pending(session: Session) -> dict[str, tuple[str, bytes]]:
    pending: dict[str, tuple[str, bytes]] = session.info.setdefault(_PENDING, {})
    return pending


def _remember_after_commit(session: Session, purpose: str, key_id: str, key: bytes) -> None:
    """Cache as current only once the transaction that saw (or made) it has committed."""
    _pending(session)[purpose] = (key_id, key)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    now = time.monotonic()
    with _lock:
        current = _current.setdefault(_engine(session), {})
        for purpose, (key_id, key) in pending.items():
            current[purpose] = (now, key_id, key)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    # also a savepoint's: a key made inside it is gone, so look the current key up again
    session.info.pop(_PENDING, None)


def _current_key(session: Session, purpose: str) -> tuple[str, bytes]:
    pending: tuple[str, bytes] | None = session.info.get(_PENDING, {}).get(purpose)
    if pending is not None:
        return pending
    cached = _current.get(_engine(session), {}).get(purpose)
    if cached is not None and time.monotonic() - cached[0] < CURRENT_KEY_TTL:
        return cached[1], cached[2]
    row = session.scalars(
        select(DataKey)
        .where(DataKey.purpose == purpose, DataKey.retired_at.is_(None))
        .order_by(DataKey.created_at.desc(), DataKey.id)
        .limit(1)
    ).first()
    if row is None:
        key_id, key = _new_key(session, purpose)
    else:
        key_id, key = row.id, _data_key(session, row)
    _remember_after_commit(session, purpose, key_id, key)
    return key_id, key


def _data_key(session: Session, row: DataKey) -> bytes:
    key = _data_keys.get(row.id)
    if key is None:
        key = _unwrap(keyring_for(session), row)
        with _lock:
            _data_keys[row.id] = key
    return key


def _key_by_id(session: Session, key_id: str) -> bytes:
    key = _data_keys.get(key_id)
    if key is not None:
        return key
    row = session.get(DataKey, key_id)
    if row is None:
        raise KeyUnavailableError(f"data key {key_id} does not exist")
    return _data_key(session, row)


# ----------------------------------------------------------------------------- values


def _value_aad(header: bytes, aad: bytes) -> bytes:
    return header + len(aad).to_bytes(4, "big") + aad


def encrypt_value(session: Session, purpose: str, plaintext: bytes, *, aad: bytes = b"") -> bytes:
    """Encrypt with the current data key of ``purpose`` (made on first use, in this transaction)."""
    if not purpose or len(purpose) > 64:
        raise CryptoError("a key purpose is 1 to 64 characters")
    key_id, key = _current_key(session, purpose)
    header = bytes([BLOB_VERSION]) + bytes.fromhex(key_id)
    return header + sm4_gcm_encrypt(key, plaintext, _value_aad(header, aad))


def blob_key_id(blob: bytes) -> str:
    """The id of the data key a blob was encrypted with."""
    if len(blob) < HEADER_SIZE + GCM_NONCE_SIZE + GCM_TAG_SIZE or blob[0] != BLOB_VERSION:
        raise DecryptionError("not a CityOS encrypted value (unknown format or truncated)")
    return blob[1:HEADER_SIZE].hex()


def decrypt_value(session: Session, blob: bytes, *, aad: bytes = b"") -> bytes:
    """Decrypt a blob of ``encrypt_value``; DecryptionError when it or its aad was altered."""
    key = _key_by_id(session, blob_key_id(blob))
    return sm4_gcm_decrypt(key, blob[HEADER_SIZE:], _value_aad(blob[:HEADER_SIZE], aad))


# ----------------------------------------------------------------------------- bulk use


def current_data_key(session: Session, purpose: str) -> tuple[str, bytes]:
    """(key id, key) of the current data key of ``purpose``, made on first use. For code that
    encrypts many values in one go (``encrypt_with``) instead of calling ``encrypt_value``."""
    if not purpose or len(purpose) > 64:
        raise CryptoError("a key purpose is 1 to 64 characters")
    return _current_key(session, purpose)


def data_key(session: Session, key_id: str) -> bytes:
    """The (unwrapped) data key with this id, current or retired; KeyUnavailableError if none."""
    return _key_by_id(session, key_id)


def encrypt_with(key_id: str, key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """``encrypt_value`` with a key already in hand: the same self-describing blob."""
    header = bytes([BLOB_VERSION]) + bytes.fromhex(key_id)
    return header + sm4_gcm_encrypt(key, plaintext, _value_aad(header, aad))


def value_sealer(key_id: str, key: bytes, aad: bytes = b"") -> Callable[[bytes, bytes], bytes]:
    """``encrypt_with`` for many values under one key and associated data (a column):
    ``seal(nonce, plaintext) -> blob``, the same blob format; each nonce 12 fresh random
    bytes (e.g. one ``os.urandom`` call sliced per chunk of values)."""
    header = bytes([BLOB_VERSION]) + bytes.fromhex(key_id)
    seal_raw = sm4_gcm_sealer(key, _value_aad(header, aad))

    def seal(nonce: bytes, plaintext: bytes) -> bytes:
        return header + nonce + seal_raw(nonce, plaintext)

    return seal


def value_opener(key_id: str, key: bytes, aad: bytes = b"") -> Callable[[bytes], bytes]:
    """``decrypt_with`` for many blobs of one data key and associated data (a column)."""
    header = bytes([BLOB_VERSION]) + bytes.fromhex(key_id)
    open_raw = sm4_gcm_opener(key, _value_aad(header, aad))

    def open_(blob: bytes) -> bytes:
        if blob[:HEADER_SIZE] != header:
            raise DecryptionError("the blob is not of this data key")
        return open_raw(blob[HEADER_SIZE:])

    return open_


def decrypt_with(key: bytes, blob: bytes, aad: bytes = b"") -> bytes:
    """Decrypt a blob whose key (``blob_key_id``) the caller already holds."""
    blob_key_id(blob)
    return sm4_gcm_decrypt(key, blob[HEADER_SIZE:], _value_aad(blob[:HEADER_SIZE], aad))


def purposes(session: Session) -> list[str]:
    """Every key purpose that has a data key."""
    return sorted(session.scalars(select(DataKey.purpose).distinct()))


def master_versions(session: Session) -> dict[str, int]:
    """Master key fingerprint → how many data keys it wraps."""
    rows = session.execute(
        select(DataKey.master_key_version, func.count()).group_by(DataKey.master_key_version)
    )
    return {str(version): int(n) for version, n in rows}


# ----------------------------------------------------------------------------- rotation


def rotate_data_key(session: Session, purpose: str) -> str:
    """Retire the current data key of ``purpose`` and make a new one; returns the new key id.

    New writes use the new key (in this process once the transaction commits, in others within
    CURRENT_KEY_TTL); blobs of the retired key still decrypt.
    """
    session.execute(
        update(DataKey)
        .where(DataKey.purpose == purpose, DataKey.retired_at.is_(None))
        .values(retired_at=utcnow())
    )
    key_id, key = _new_key(session, purpose)
    _remember_after_commit(session, purpose, key_id, key)
    return key_id


def rewrap_master(session: Session, old_master: bytes, new_master: bytes) -> int:
    """Re-wrap every data key wrapped under ``old_master`` with ``new_master``; returns how many.

    Zero-downtime rotation: configure ``CITYOS_MASTER_KEY=<new>,<old>`` everywhere, call this,
    then drop the old key from the setting.
    """
    old_version = master_key_version(old_master)
    new_version = master_key_version(new_master)
    if old_version == new_version:
        return 0
    old_ring, count = MasterKeyring([old_master]), 0
    rows = session.scalars(select(DataKey).where(DataKey.master_key_version == old_version))
    for row in rows:
        key = _unwrap(old_ring, row)
        row.wrapped_key = _wrap(new_master, row.id, row.purpose, key)
        row.master_key_version = new_version
        count += 1
    session.flush()
    return count


def clear_cache() -> None:
    """Forget every unwrapped key held by this process (tests, or after a suspected leak)."""
    with _lock:
        _data_keys.clear()
        _current.clear()
