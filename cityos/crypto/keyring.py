"""The master key(s) of the envelope encryption, from ``CITYOS_MASTER_KEY`` or the data dir.

``CITYOS_MASTER_KEY`` holds one or more 16-byte SM4 keys, each as 32 hex digits or base64,
separated by commas: the first one wraps new data keys, the others are still accepted for
unwrapping (a master key rotation in progress). Unset, a key is generated once into
``<data dir>/master_key`` with mode 0600, as the session secret is.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from cityos.crypto.errors import CryptoError, KeyUnavailableError
from cityos.crypto.sm import SM4_KEY_SIZE, hmac_sm3

if TYPE_CHECKING:
    from cityos.config import Settings

MASTER_KEY_FILE = "master_key"


def parse_master_key(text: str) -> bytes:
    """A 16-byte key from 32 hex digits or base64 (padding optional)."""
    value = text.strip()
    if len(value) == 2 * SM4_KEY_SIZE:
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != SM4_KEY_SIZE:
        raise CryptoError("a master key is 16 bytes, written as 32 hex digits or base64")
    return raw


def master_key_version(key: bytes) -> str:
    """A fingerprint naming a master key without revealing it (16 hex digits)."""
    return hmac_sm3(key, b"cityos master key version").hex()[:16]


class MasterKeyring:
    """The current master key plus older ones still accepted for unwrapping."""

    def __init__(self, keys: Iterable[bytes]) -> None:
        self.keys = [bytes(k) for k in keys]
        if not self.keys:
            raise CryptoError("no master key")
        for key in self.keys:
            if len(key) != SM4_KEY_SIZE:
                raise CryptoError("a master key is 16 bytes")
        self._by_version = {master_key_version(k): k for k in self.keys}

    @property
    def current(self) -> bytes:
        return self.keys[0]

    @property
    def current_version(self) -> str:
        return master_key_version(self.current)

    def get(self, version: str) -> bytes:
        key = self._by_version.get(version)
        if key is None:
            raise KeyUnavailableError(
                f"master key version {version} is not configured (CITYOS_MASTER_KEY)"
            )
        return key

    @classmethod
    def from_settings(cls, settings: Settings) -> MasterKeyring:
        if settings.master_key is not None:
            text = settings.master_key.get_secret_value()
            return cls(parse_master_key(part) for part in text.split(",") if part.strip())
        return cls([parse_master_key(_key_file(settings.data_dir))])


def _key_file(data_dir: Path) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / MASTER_KEY_FILE
    if not path.exists():
        write_secret_file(path, secrets.token_bytes(SM4_KEY_SIZE).hex() + "\n")
    return path.read_text().strip()


def write_secret_file(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 unless it exists (another process may win the race)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # atomic: readers never see a half-written key
    finally:
        tmp.unlink(missing_ok=True)
