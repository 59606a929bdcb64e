"""Key rotation without downtime: ``cityos crypto rotate``, ``rewrap`` and ``status``.

- ``rotate``: every key purpose (or the ones given) gets a new current data key; the old one is
  retired but still decrypts, because every blob names its key. New writes use the new key at
  once in this process and within ``envelope.CURRENT_KEY_TTL`` seconds in the others. Then the
  datastore's re-encryption pass moves the encrypted columns to the new keys, one batch per
  transaction, while loads and reads go on.
- ``rewrap``: after a new master key is put first in ``CITYOS_MASTER_KEY`` (``new,old``), the
  data keys still wrapped by the older master keys are re-wrapped by the new one; no value is
  rewritten. Then the old master key can be dropped from the setting.

Blind-index keys (purpose ``datastore-index:…``) are left alone unless named: the index of every
stored row was computed with them (rotating one means recomputing its table's index).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cityos.core.db import Database
from cityos.crypto.envelope import (
    keyring_for,
    master_versions,
    purposes,
    rewrap_master,
    rotate_data_key,
)

INDEX_PREFIX = "datastore-index:"


@dataclass
class RotationReport:
    rotated: dict[str, str] = field(default_factory=dict)  # purpose → new key id
    reencrypted: dict[str, int] = field(default_factory=dict)  # resource id → rows rewritten


def rotate(
    db: Database, only: list[str] | None = None, *, reencrypt: bool = True
) -> RotationReport:
    """Rotate the data keys of ``only`` (default: every purpose but blind-index keys)."""
    report = RotationReport()
    with db.session() as session:
        known = purposes(session)
    wanted = only or [p for p in known if not p.startswith(INDEX_PREFIX)]
    for purpose in wanted:
        with db.session() as session:
            report.rotated[purpose] = rotate_data_key(session, purpose)
    if reencrypt and any(p.startswith("datastore:") for p in wanted):
        from cityos.datastore.services import reencrypt_all

        report.reencrypted = reencrypt_all(db)
    return report


def rewrap(db: Database) -> dict[str, int]:
    """Re-wrap the data keys of the older master keys of the configured ring with its first
    key; returns master fingerprint → data keys it wraps, afterwards."""
    with db.session() as session:
        ring = keyring_for(session)
        for old in ring.keys[1:]:
            rewrap_master(session, old, ring.current)
    with db.session() as session:
        return master_versions(session)


@dataclass
class KeyStatus:
    current_master: str  # fingerprint of the master key that wraps new data keys
    masters: dict[str, int]  # master fingerprint → data keys it wraps
    purposes: list[str]


def status(db: Database) -> KeyStatus:
    with db.session() as session:
        ring = keyring_for(session)
        return KeyStatus(ring.current_version, master_versions(session), purposes(session))
