"""Envelope encryption: data keys wrapped under the master key, rotation without downtime."""

import base64
import stat

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from cityos.config import Settings
from cityos.crypto import envelope
from cityos.crypto.errors import CryptoError, DecryptionError, KeyUnavailableError
from cityos.crypto.keyring import MasterKeyring, master_key_version, parse_master_key
from cityos.crypto.models import DataKey

PURPOSE = "ds:test:id_card"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    envelope.clear_cache()


def test_round_trip_and_blob_format(app: FastAPI) -> None:
    db = app.state.db
    with db.session() as session:
        blob = envelope.encrypt_value(session, PURPOSE, b"460100199001011234", aad=b"r1")
        assert envelope.decrypt_value(session, blob, aad=b"r1") == b"460100199001011234"
    assert blob[0] == 1 and len(blob) == 1 + 16 + 12 + 18 + 16
    with db.session() as session:
        row = session.scalars(select(DataKey)).one()
        assert row.id == envelope.blob_key_id(blob) and row.purpose == PURPOSE
        assert row.retired_at is None
        assert (
            row.master_key_version
            == MasterKeyring.from_settings(app.state.settings).current_version
        )
    envelope.clear_cache()  # a new process: the key is unwrapped from the table
    with db.session() as session:
        assert envelope.decrypt_value(session, blob, aad=b"r1") == b"460100199001011234"
        again = envelope.encrypt_value(session, PURPOSE, b"x")
        assert envelope.blob_key_id(again) == envelope.blob_key_id(blob)  # one current key


def test_wrapped_key_is_not_the_key(app: FastAPI) -> None:
    with app.state.db.session() as session:
        envelope.encrypt_value(session, PURPOSE, b"v")
    key_id = next(iter(envelope._data_keys))
    raw = envelope._data_keys[key_id]
    with app.state.db.session() as session:
        row = session.get(DataKey, key_id)
        assert row is not None and raw not in row.wrapped_key and len(row.wrapped_key) == 44


def test_tampering_and_misplaced_blobs_fail(app: FastAPI) -> None:
    with app.state.db.session() as session:
        blob = envelope.encrypt_value(session, PURPOSE, b"core data", aad=b"table:row-1")
        with pytest.raises(DecryptionError):
            envelope.decrypt_value(session, blob, aad=b"table:row-2")
        changed = bytearray(blob)
        changed[-5] ^= 0x10
        with pytest.raises(DecryptionError):
            envelope.decrypt_value(session, bytes(changed), aad=b"table:row-1")
        with pytest.raises(DecryptionError, match="format"):
            envelope.decrypt_value(session, b"\x02" + blob[1:], aad=b"table:row-1")
        with pytest.raises(KeyUnavailableError):
            envelope.decrypt_value(session, blob[:1] + bytes(16) + blob[17:])
        with pytest.raises(CryptoError):
            envelope.encrypt_value(session, "", b"x")


def test_swapped_wrapped_key_is_refused(app: FastAPI) -> None:
    """A wrapped key copied onto another key's row does not unwrap there (bound by its AAD)."""
    with app.state.db.session() as session:
        a = envelope.encrypt_value(session, "purpose-a", b"a")
        envelope.encrypt_value(session, "purpose-b", b"b")
    with app.state.db.session() as session:
        rows = {r.purpose: r for r in session.scalars(select(DataKey))}
        rows["purpose-a"].wrapped_key = rows["purpose-b"].wrapped_key
    envelope.clear_cache()
    with app.state.db.session() as session, pytest.raises(DecryptionError, match="unwrap"):
        envelope.decrypt_value(session, a)


def test_rotate_data_key_keeps_old_blobs_readable(app: FastAPI) -> None:
    db = app.state.db
    with db.session() as session:
        old_blob = envelope.encrypt_value(session, PURPOSE, b"old")
    with db.session() as session:
        new_id = envelope.rotate_data_key(session, PURPOSE)
    with db.session() as session:
        new_blob = envelope.encrypt_value(session, PURPOSE, b"new")
        assert envelope.blob_key_id(new_blob) == new_id != envelope.blob_key_id(old_blob)
        assert envelope.decrypt_value(session, old_blob) == b"old"
        assert envelope.decrypt_value(session, new_blob) == b"new"
        retired = session.get(DataKey, envelope.blob_key_id(old_blob))
        assert retired is not None and retired.retired_at is not None
    envelope.clear_cache()  # another process picks the new key from the table
    with db.session() as session:
        assert envelope.blob_key_id(envelope.encrypt_value(session, PURPOSE, b"n")) == new_id
        assert envelope.decrypt_value(session, old_blob) == b"old"


def test_key_made_in_a_rolled_back_transaction_is_not_reused(app: FastAPI) -> None:
    db = app.state.db
    with pytest.raises(RuntimeError), db.session() as session:
        lost = envelope.encrypt_value(session, PURPOSE, b"lost")
        raise RuntimeError("the write fails")
    with db.session() as session:
        kept = envelope.encrypt_value(session, PURPOSE, b"kept")
        assert envelope.blob_key_id(kept) != envelope.blob_key_id(lost)
    envelope.clear_cache()
    with db.session() as session:
        assert envelope.decrypt_value(session, kept) == b"kept"
        assert session.get(DataKey, envelope.blob_key_id(kept)) is not None


def test_rewrap_master_rotates_the_master_key(app: FastAPI) -> None:
    db = app.state.db
    old_master = MasterKeyring.from_settings(app.state.settings).current
    new_master = bytes(range(16))
    with db.session() as session:
        blobs = [envelope.encrypt_value(session, p, p.encode()) for p in ("a", "b", "c")]
    # during the rollover every process accepts both keys
    envelope.configure(db.engine, MasterKeyring([new_master, old_master]))
    with db.session() as session:
        assert envelope.rewrap_master(session, old_master, new_master) == 3
    with db.session() as session:
        versions = set(session.scalars(select(DataKey.master_key_version)))
        assert versions == {master_key_version(new_master)}
    envelope.configure(db.engine, MasterKeyring([new_master]))  # the old key is gone
    envelope.clear_cache()
    with db.session() as session:
        assert [envelope.decrypt_value(session, b) for b in blobs] == [b"a", b"b", b"c"]
    envelope.configure(db.engine, MasterKeyring([old_master]))
    envelope.clear_cache()
    with db.session() as session, pytest.raises(KeyUnavailableError):
        envelope.decrypt_value(session, blobs[0])
    envelope.configure(db.engine, app.state.settings)


def test_master_key_settings(tmp_path: object) -> None:
    from pathlib import Path

    data_dir = Path(str(tmp_path)) / "d"
    ring = MasterKeyring.from_settings(Settings(data_dir=data_dir))
    path = data_dir / "master_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert MasterKeyring.from_settings(Settings(data_dir=data_dir)).current == ring.current
    key = bytes(range(16))
    assert parse_master_key(key.hex()) == key
    assert parse_master_key(base64.b64encode(key).decode()) == key
    assert parse_master_key(base64.b64encode(key).decode().rstrip("=")) == key
    configured = Settings(
        data_dir=data_dir,
        master_key=f"{key.hex()}, {base64.b64encode(bytes(16)).decode()}",  # type: ignore[arg-type]
    )
    ring = MasterKeyring.from_settings(configured)
    assert ring.current == key and ring.get(master_key_version(bytes(16))) == bytes(16)
    for bad in ("00", "not a key", "a" * 31):
        with pytest.raises(CryptoError):
            parse_master_key(bad)
