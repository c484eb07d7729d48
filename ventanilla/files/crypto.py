"""Encryption at rest of the residents' documents (envelope encryption, AES-256-GCM).

Every document gets its own random 256-bit data key. The content is sealed with that key; the data
key is sealed ("wrapped") with the installation's master key. Both seals bind the document's
public id as associated data, so a blob copied onto another row does not open. The row keeps the
master key's id (a fingerprint of the key, never the key), so several master keys can coexist
while they rotate: `VENTANILLA_FILES_KEY` seals new documents, `VENTANILLA_FILES_KEYS` lists older
keys that still open existing ones, and `manage.py files_rewrap` moves every row to the current key.

Layout of a sealed value: 12-byte nonce || ciphertext-with-16-byte-tag.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

NONCE_BYTES = 12
_CONTENT_AAD = b"ventanilla.files.content.v1:"
_KEY_AAD = b"ventanilla.files.datakey.v1:"
_warned_development_key = False


class DecryptionError(Exception):
    """The stored bytes do not open: tampered with, moved to another row, or the key is gone."""


@dataclass(frozen=True)
class Sealed:
    key_id: str
    wrapped_key: bytes
    content: bytes


def key_id_of(key: bytes) -> str:
    """A public fingerprint naming a master key (16 hex characters)."""
    return hashlib.sha256(b"ventanilla.files.key-id:" + key).hexdigest()[:16]


def _parse_key(value: str, variable: str) -> bytes:
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"{variable} must be base64 of 32 random bytes.") from exc
    if len(key) != 32:
        raise ImproperlyConfigured(f"{variable} must be base64 of exactly 32 bytes (got {len(key)}).")
    return key


def development_key() -> bytes:
    """Outside production without VENTANILLA_FILES_KEY: a key derived from SECRET_KEY (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"ventanilla.files",
                info=b"development master key v1").derive(settings.SECRET_KEY.encode())


def _keyring() -> tuple[str, dict[str, bytes]]:
    """(current key id, {key id: key}) from the settings. Raises ImproperlyConfigured."""
    global _warned_development_key
    current_value = (getattr(settings, "VENTANILLA_FILES_KEY", "") or "").strip()
    if current_value:
        current = _parse_key(current_value, "VENTANILLA_FILES_KEY")
    elif getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured(
            "VENTANILLA_FILES_KEY must be set in production (base64 of 32 random bytes): it encrypts "
            "the residents' documents. See docs/files.md.")
    else:
        current = development_key()
        if not _warned_development_key:
            _warned_development_key = True
            logger.warning("VENTANILLA_FILES_KEY is not set: residents' documents are encrypted with a "
                           "development key derived from SECRET_KEY. Never do this in production.")
    keys = {key_id_of(current): current}
    for i, value in enumerate(getattr(settings, "VENTANILLA_FILES_KEYS", None) or []):
        old = _parse_key(value, f"VENTANILLA_FILES_KEYS (item {i + 1})")
        keys.setdefault(key_id_of(old), old)
    return key_id_of(current), keys


def check_configuration() -> None:
    """Called at start-up (FilesConfig.ready): refuses to start with a missing (production) or
    malformed key."""
    _keyring()


def current_key_id() -> str:
    return _keyring()[0]


def _uuid_bytes(public_id) -> bytes:
    return (public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))).bytes


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    sealed = bytes(sealed)
    if len(sealed) < NONCE_BYTES + 16:
        raise DecryptionError("sealed value too short")
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except InvalidTag as exc:
        raise DecryptionError("authentication failed") from exc


def _key_aad(public_id, key_id: str) -> bytes:
    return _KEY_AAD + _uuid_bytes(public_id) + key_id.encode()


def encrypt(plaintext: bytes, *, public_id) -> Sealed:
    """Seals `plaintext` for the document `public_id` under a fresh data key."""
    key_id, keys = _keyring()
    data_key = AESGCM.generate_key(bit_length=256)
    content = _seal(data_key, plaintext, _CONTENT_AAD + _uuid_bytes(public_id))
    wrapped = _seal(keys[key_id], data_key, _key_aad(public_id, key_id))
    return Sealed(key_id=key_id, wrapped_key=wrapped, content=content)


def _unwrap(key_id: str, wrapped_key: bytes, public_id) -> bytes:
    keys = _keyring()[1]
    master = keys.get(key_id)
    if master is None:
        raise DecryptionError(f"master key {key_id} is not configured (VENTANILLA_FILES_KEYS)")
    return _open(master, wrapped_key, _key_aad(public_id, key_id))


def decrypt(sealed: Sealed, *, public_id) -> bytes:
    data_key = _unwrap(sealed.key_id, sealed.wrapped_key, public_id)
    return _open(data_key, sealed.content, _CONTENT_AAD + _uuid_bytes(public_id))


def rewrap(sealed: Sealed, *, public_id) -> Sealed:
    """The same content, its data key wrapped with the current master key (content untouched)."""
    key_id, keys = _keyring()
    if sealed.key_id == key_id:
        return sealed
    data_key = _unwrap(sealed.key_id, sealed.wrapped_key, public_id)
    return Sealed(key_id=key_id, wrapped_key=_seal(keys[key_id], data_key, _key_aad(public_id, key_id)),
                  content=bytes(sealed.content))
