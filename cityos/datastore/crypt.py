"""Column encryption at rest: SM4-GCM values and HMAC-SM3 blind indexes in the ds_ tables.

A field is encrypted when its item is graded 重要 or 核心, or declared sensitive personal
information (``needs_encryption``). Its physical columns are then:

- ``<field>``: the typed column, NULL (it keeps existing so that decrypting is an UPDATE, and
  the datastore never drops a column);
- ``<field>__ct``: the value as a self-describing envelope blob (``cityos.crypto.envelope``:
  format, data key id, nonce, ciphertext, tag) under the resource's data key (purpose
  ``datastore:<resource id>``), the associated data binding it to the resource and the field,
  so a ciphertext moved to another column or table does not decrypt;
- ``<field>__bi``: the blind index, hex HMAC-SM3 (128 bits) of the value under the resource's
  index key (purpose ``datastore-index:<resource id>``, recorded in the table's metadata), so
  that equality filters (``=``, ``in``, ``ne``) and unique keys work without the plaintext.

What is encrypted is recorded in ``DatastoreTable.encrypted``: ``{"fields": [...],
"index_key": key id}``. Values are encrypted in their canonical text (``canonical``) and read
back to their type (``restore``). Data keys rotate (``cityos crypto rotate``): the blob names
its key, so old rows keep decrypting while a background pass re-encrypts them.
"""

from __future__ import annotations

import hmac as std_hmac
import os
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from cityos.core.errors import ProblemError
from cityos.crypto.envelope import (
    blob_key_id,
    current_data_key,
    data_key,
    encrypt_with,
    value_opener,
    value_sealer,
)
from cityos.crypto.errors import CryptoError
from cityos.crypto.sm import GCM_NONCE_SIZE, hmac_sm3, stdlib_has_sm3
from cityos.datastore.models import DatastoreTable

PURPOSE_PREFIX = "datastore:"
INDEX_PURPOSE_PREFIX = "datastore-index:"
CT_SUFFIX = "__ct"
BI_SUFFIX = "__bi"
ENCRYPTED_GRADES = frozenset({"重要", "核心"})
ENCRYPTED_SENSITIVITIES = frozenset({"sensitive_personal"})
INDEX_HEX = 32  # 128-bit blind index

KeyLookup = Callable[[str], bytes]
Encoder = Callable[[Any, bytes], tuple[bytes | None, str | None]]


def needs_encryption(grade: str | None, sensitivity: str | None) -> bool:
    """Whether an item's values are stored encrypted."""
    return grade in ENCRYPTED_GRADES or sensitivity in ENCRYPTED_SENSITIVITIES


def ct_name(field: str) -> str:
    return field + CT_SUFFIX


def bi_name(field: str) -> str:
    return field + BI_SUFFIX


def purpose(resource_id: str) -> str:
    return PURPOSE_PREFIX + resource_id


def index_purpose(resource_id: str) -> str:
    return INDEX_PURPOSE_PREFIX + resource_id


def encrypted_fields(record: DatastoreTable | None) -> list[str]:
    if record is None or not record.encrypted:
        return []
    return list(record.encrypted.get("fields") or [])


def field_encrypted(name: str) -> ProblemError:
    return ProblemError(
        422,
        "field_encrypted",
        "{field} is stored encrypted: it can be filtered by equality (=, in, ne) only, not "
        "sorted, compared or searched.",
        field=name,
    )


def decryption_failed(name: str) -> ProblemError:
    return ProblemError(
        500,
        "decryption_failed",
        "A stored value of {field} does not decrypt: it was altered or its key is missing.",
        field=name,
    )


# ----------------------------------------------------------------------------- values


def canonical(value: Any, data_type: str) -> str | None:
    """The text a value is encrypted and indexed as; the same for a loaded value (either
    backend's stored form) and for a filter value of the same type."""
    if value is None:
        return None
    if data_type in ("string", "text"):
        return value if isinstance(value, str) else str(value)
    if data_type == "boolean":
        return "true" if value else "false"
    if data_type == "integer":
        return str(int(value))
    if data_type == "number":
        return repr(float(value))
    if data_type == "date":
        if isinstance(value, datetime):
            value = value.date()
        return (
            value.isoformat() if isinstance(value, date) else date.fromisoformat(value).isoformat()
        )
    if data_type == "datetime":
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if moment.tzinfo is None:  # SQLite's storage format is naive UTC
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(" ", "microseconds")
    return str(value)


def restore(text: str, data_type: str) -> Any:
    """The typed value of a canonical text (what an unencrypted column would have returned)."""
    if data_type == "boolean":
        return text == "true"
    if data_type == "integer":
        return int(text)
    if data_type == "number":
        return float(text)
    if data_type == "date":
        return date.fromisoformat(text)
    if data_type == "datetime":
        return datetime.fromisoformat(text)
    return text


_FAST_HMAC = stdlib_has_sm3()


class ColumnCipher:
    """Encrypts, indexes and decrypts the encrypted fields of one resource's table."""

    def __init__(
        self,
        resource_id: str,
        index_key: bytes,
        lookup: KeyLookup,
        write_key: tuple[str, bytes] | None = None,
    ) -> None:
        self.resource_id = resource_id
        self.lookup = lookup
        self.write_key = write_key
        self._index_key = index_key
        self._index_base = std_hmac.new(index_key, digestmod="sm3") if _FAST_HMAC else None
        self._aad: dict[str, bytes] = {}
        self._keys: dict[str, bytes] = {}
        self._openers: dict[tuple[str, str], Callable[[bytes], bytes]] = {}
        if write_key is not None:
            self._keys[write_key[0]] = write_key[1]

    def with_lookup(self, lookup: KeyLookup) -> ColumnCipher:
        """The same cipher looking data keys up another way (e.g. outside the session)."""
        copy = ColumnCipher(self.resource_id, self._index_key, lookup, self.write_key)
        copy._keys.update(self._keys)
        return copy

    def aad(self, field: str) -> bytes:
        found = self._aad.get(field)
        if found is None:
            found = self._aad[field] = f"cityos/ds/v1\x00{self.resource_id}\x00{field}".encode()
        return found

    def index(self, text: str) -> str:
        data = text.encode("utf-8")
        if self._index_base is not None:
            mac = self._index_base.copy()
            mac.update(data)
            return mac.hexdigest()[:INDEX_HEX]
        return hmac_sm3(self._index_key, data).hex()[:INDEX_HEX]

    def index_value(self, value: Any, data_type: str) -> str | None:
        text = canonical(value, data_type)
        return None if text is None else self.index(text)

    def seal(self, field: str, text: str) -> bytes:
        if self.write_key is None:
            raise CryptoError("this cipher was made for reading")
        key_id, key = self.write_key
        return encrypt_with(key_id, key, text.encode("utf-8"), self.aad(field))

    def encode(self, field: str, data_type: str, value: Any) -> tuple[bytes | None, str | None]:
        """(ciphertext, blind index) of a value; (None, None) for no value."""
        return self.encoder(field, data_type)(value, os.urandom(GCM_NONCE_SIZE))

    def encoder(self, field: str, data_type: str) -> Encoder:
        """A fast ``encode`` for one field: ``run(value, nonce) -> (blob, index)`` (the nonce
        12 fresh random bytes; a loader takes them from one ``os.urandom`` call per chunk)."""
        if self.write_key is None:
            raise CryptoError("this cipher was made for reading")
        seal = value_sealer(*self.write_key, self.aad(field))
        base = self._index_base
        index = self.index
        textual = data_type in ("string", "text")

        def run(value: Any, nonce: bytes) -> tuple[bytes | None, str | None]:
            if value is None:
                return None, None
            if textual:
                text = value if type(value) is str else str(value)
            else:
                text = canonical(value, data_type) or ""
            data = text.encode("utf-8")
            if base is not None:
                mac = base.copy()
                mac.update(data)
                return seal(nonce, data), mac.hexdigest()[:INDEX_HEX]
            return seal(nonce, data), index(text)

        return run

    def _key(self, key_id: str) -> bytes:
        key = self._keys.get(key_id)
        if key is None:
            key = self._keys[key_id] = self.lookup(key_id)
        return key

    def open(self, field: str, blob: bytes) -> str:
        try:
            raw = bytes(blob)
            key_id = blob_key_id(raw)
            opener = self._openers.get((key_id, field))
            if opener is None:
                opener = value_opener(key_id, self._key(key_id), self.aad(field))
                self._openers[(key_id, field)] = opener
            return opener(raw).decode("utf-8")
        except (CryptoError, UnicodeDecodeError):
            raise decryption_failed(field) from None

    def decode(self, field: str, data_type: str, blob: Any) -> Any:
        if blob is None:
            return None
        return restore(self.open(field, blob), data_type)

    def decoder(
        self, fields: Sequence[tuple[int, str, str]]
    ) -> Callable[[Sequence[Any]], list[Any]]:
        """A function decrypting the given (position, field, data type) of a result row."""
        decode = self.decode

        def run(row: Sequence[Any]) -> list[Any]:
            out = list(row)
            for position, field, data_type in fields:
                out[position] = decode(field, data_type, out[position])
            return out

        return run


def session_lookup(session: Session) -> KeyLookup:
    return lambda key_id: data_key(session, key_id)


def ensure_index_key(session: Session, record: DatastoreTable) -> bytes:
    """The resource's blind-index key, made (and recorded in the table's metadata) once."""
    meta = dict(record.encrypted or {})
    key_id = meta.get("index_key")
    if key_id:
        return data_key(session, key_id)
    key_id, key = current_data_key(session, index_purpose(record.resource_id))
    meta["index_key"] = key_id
    meta.setdefault("fields", [])
    record.encrypted = meta
    return key


def writer_cipher(session: Session, record: DatastoreTable) -> ColumnCipher:
    """For writing: the current data key of the resource (made on first use) and its index key."""
    index_key = ensure_index_key(session, record)
    write_key = current_data_key(session, purpose(record.resource_id))
    return ColumnCipher(record.resource_id, index_key, session_lookup(session), write_key)


def reader_cipher(session: Session, record: DatastoreTable | None) -> ColumnCipher | None:
    """For reading (decrypting, filtering by the blind index); None without encrypted fields."""
    if record is None or not encrypted_fields(record):
        return None
    key_id = (record.encrypted or {}).get("index_key")
    if not key_id:
        return None
    return ColumnCipher(record.resource_id, data_key(session, key_id), session_lookup(session))


# ----------------------------------------------------------------------------- loading


class EncryptingWriter:
    """Wraps a bulk writer: encrypted fields are replaced by their ciphertext and blind index.

    Rows come in as converted values in ``columns`` order; they go out as ``physical_columns``
    (the encrypted fields' ``__ct`` in their place, their ``__bi`` appended)."""

    def __init__(
        self, inner: Any, cipher: ColumnCipher, fields: Sequence[tuple[int, str, str]]
    ) -> None:
        self.inner = inner
        self.cipher = cipher
        self.fields = list(fields)
        self._encoders: list[tuple[int, Encoder]] | None = None

    def start(self) -> None:
        self.inner.start()

    def finish(self) -> None:
        self.inner.finish()

    def analyze(self) -> None:
        self.inner.analyze()

    def write(self, rows: list[Sequence[Any]]) -> list[int]:
        if self._encoders is None:
            self._encoders = [
                (position, self.cipher.encoder(field, data_type))
                for position, field, data_type in self.fields
            ]
        encoders = self._encoders
        nonces = os.urandom(GCM_NONCE_SIZE * len(rows) * len(encoders))
        step = GCM_NONCE_SIZE
        at = 0
        out: list[Sequence[Any]] = []
        for row in rows:
            values = list(row)
            indexes = []
            for position, encode in encoders:
                blob, index = encode(values[position], nonces[at : at + step])
                at += step
                values[position] = blob
                indexes.append(index)
            values.extend(indexes)
            out.append(values)
        return list(self.inner.write(out))


def physical_layout(
    columns: list[str], types: list[str], keys: tuple[str, ...], encrypted: set[str]
) -> tuple[list[str], list[str], tuple[str, ...], list[tuple[int, str, str]]]:
    """(physical columns, their types, physical key columns, encrypted (position, field, type))
    of a load writing ``columns``."""
    fields = [
        (i, c, t) for i, (c, t) in enumerate(zip(columns, types, strict=True)) if c in encrypted
    ]
    physical = [ct_name(c) if c in encrypted else c for c in columns]
    physical_types = [
        "ciphertext" if c in encrypted else t for c, t in zip(columns, types, strict=True)
    ]
    physical += [bi_name(c) for _i, c, _t in fields]
    physical_types += ["string"] * len(fields)
    physical_keys = tuple(bi_name(k) if k in encrypted else k for k in keys)
    return physical, physical_types, physical_keys, fields
