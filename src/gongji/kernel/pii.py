"""Personal data at rest: AES-GCM encryption, a keyed hash for look-up, masks for display.

ID numbers, names and mobile numbers are stored three ways: encrypted (readable only with the
key, for the few roles allowed), as an HMAC-SHA256 keyed hash (so an exact look-up needs the key
too, and a stolen table cannot be brute-forced from the 18-digit ID space), and masked.

The key is ``GONGJI_SECRET_KEY`` (32 bytes, URL-safe base64) or, on the embedded default, a key
file created once in the data directory with mode 0600.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gongji.core.masking import mask_id_number, mask_name, mask_phone

KEY_BYTES = 32
NONCE_BYTES = 12
_FORMAT = "v1"


@dataclass(frozen=True, slots=True)
class Protected:
    """A value ready to store: encrypted, keyed hash, masked."""

    enc: str
    hash: str
    masked: str


class Vault:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != KEY_BYTES:
            raise ValueError("the secret key must be 32 bytes")
        self._aead = AESGCM(_derive(master_key, b"gongji pii encryption v1"))
        self._hash_key = _derive(master_key, b"gongji pii lookup hash v1")

    def encrypt(self, plain: str, *, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plain.encode(), context.encode())
        return f"{_FORMAT}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, context: str) -> str:
        version, _, body = token.partition(":")
        if version != _FORMAT:
            raise ValueError("unknown encrypted-field format")
        raw = base64.urlsafe_b64decode(body)
        return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()

    def lookup_hash(self, plain: str, *, context: str) -> str:
        message = f"{context}\x00{plain}".encode()
        return hmac.new(self._hash_key, message, hashlib.sha256).hexdigest()

    def id_number(self, number: str) -> Protected:
        return self._protect(number, "id_number", mask_id_number(number))

    def name(self, name: str) -> Protected:
        return self._protect(name, "name", mask_name(name))

    def mobile(self, mobile: str) -> Protected:
        return self._protect(mobile, "mobile", mask_phone(mobile))

    def _protect(self, plain: str, context: str, masked: str) -> Protected:
        return Protected(
            enc=self.encrypt(plain, context=context),
            hash=self.lookup_hash(plain, context=context),
            masked=masked,
        )


def _derive(master_key: bytes, label: bytes) -> bytes:
    return hmac.new(master_key, label, hashlib.sha256).digest()


def load_or_create_key(env_value: str | None, data_dir: Path) -> bytes:
    """The configured key, or the data directory's key file (created on first use)."""
    if env_value:
        key = base64.urlsafe_b64decode(env_value.encode())
        if len(key) != KEY_BYTES:
            raise ValueError("GONGJI_SECRET_KEY must be 32 bytes in URL-safe base64")
        return key
    path = data_dir / "secret.key"
    if path.exists():
        return base64.urlsafe_b64decode(path.read_bytes().strip())
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(base64.urlsafe_b64encode(key))
    return key
