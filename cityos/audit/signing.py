"""The SM2 key that signs audit tree heads.

From ``CITYOS_AUDIT_SIGNING_KEY_FILE`` (a PEM private key) or, by default, generated once into
``<data dir>/audit_signing_key.pem`` (mode 0600) with its public half beside it in
``audit_signing_key.pub.pem`` — the file to hand to whoever verifies the log.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from cityos.crypto.keyring import write_secret_file
from cityos.crypto.sm2 import key_id, public_pem_of, sm2_generate_keypair, sm2_sign

if TYPE_CHECKING:
    from cityos.config import Settings

KEY_FILE = "audit_signing_key.pem"
PUBLIC_KEY_FILE = "audit_signing_key.pub.pem"


@dataclass(frozen=True)
class AuditSigner:
    private_pem: bytes
    public_pem: bytes
    key_id: str

    @classmethod
    def from_private_pem(cls, private_pem: bytes) -> AuditSigner:
        public_pem = public_pem_of(private_pem)
        return cls(private_pem, public_pem, key_id(public_pem))

    def sign(self, data: bytes) -> bytes:
        return sm2_sign(self.private_pem, data)


def key_path(settings: Settings) -> Path:
    if settings.audit_signing_key_file is not None:
        return Path(settings.audit_signing_key_file)
    return settings.data_dir / KEY_FILE


def signer_from_settings(settings: Settings, *, create: bool = True) -> AuditSigner | None:
    """The configured signer; generated into the data dir on first use unless ``create=False``."""
    path = key_path(settings)
    if not path.exists():
        if settings.audit_signing_key_file is not None:
            raise FileNotFoundError(f"audit signing key file not found: {path}")
        if not create:
            return None
        settings.ensure_data_dir()
        pair = sm2_generate_keypair()
        write_secret_file(path, pair.private_pem.decode("ascii"))
        public = path.with_name(PUBLIC_KEY_FILE)
        if not public.exists():
            public.write_bytes(public_pem_of(path.read_bytes()))
    return AuditSigner.from_private_pem(path.read_bytes())


_signers: weakref.WeakKeyDictionary[Engine, Any] = weakref.WeakKeyDictionary()


def configure(engine: Engine, source: Settings | AuditSigner) -> None:
    """Sign tree heads of the log in ``engine`` with this signer (or the settings' one, lazily)."""
    _signers[engine] = source


def signer_for(engine: Engine) -> AuditSigner:
    source = _signers.get(engine)
    if isinstance(source, AuditSigner):
        return source
    if source is None:
        from cityos.config import Settings

        source = Settings()
    signer = signer_from_settings(source)
    assert signer is not None
    _signers[engine] = signer
    return signer
