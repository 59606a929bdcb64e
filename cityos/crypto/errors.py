"""Errors of the national-cryptography layer (never carry key material in their text)."""

from __future__ import annotations


class CryptoError(Exception):
    """Base class: something cryptographic did not hold."""


class DecryptionError(CryptoError):
    """Ciphertext, nonce, tag or associated data altered, or the wrong key."""


class KeyUnavailableError(CryptoError):
    """A data key or master key needed to decrypt is not available to this process."""
