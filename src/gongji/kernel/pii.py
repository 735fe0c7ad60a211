"""Personal data at rest: AES-GCM encryption, a keyed hash for look-up, masks for display.

ID numbers, names and mobile numbers are stored three ways: encrypted (readable only with the
key, for the few roles allowed), as an HMAC-SHA256 keyed hash (so an exact look-up needs the key
too, and a stolen table cannot be brute-forced from the 18-digit ID space), and masked.

The key is ``GONGJI_SECRET_KEY`` (32 bytes, URL-safe base64) or, on the embedded default, a key
file created once in the data directory with mode 0600. Two keys are derived from it, one to
encrypt and one for the keyed hashes (the blind index), so that a hash never reveals anything
about the cipher. The blind-index key is derived from the first key a database was given and
then carried over every rotation, sealed in the database under the current key
(:mod:`gongji.kernel.keys`): the kinship register keeps hashes only, which a new key could not
recompute. Whether a key is the database's own is told by its fingerprint (:func:`fingerprint`).
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


_ENCRYPTION_LABEL = b"gongji pii encryption v1"
_INDEX_LABEL = b"gongji pii lookup hash v1"
_FINGERPRINT_LABEL = b"gongji key fingerprint v1"
KEY_FILE_NAME = "secret.key"


class Vault:
    """Encrypts under ``master_key``; hashes under ``index_key`` (by default derived from it)."""

    def __init__(self, master_key: bytes, *, index_key: bytes | None = None) -> None:
        if len(master_key) != KEY_BYTES:
            raise ValueError("the secret key must be 32 bytes")
        self._aead = AESGCM(_derive(master_key, _ENCRYPTION_LABEL))
        self._hash_key = index_key if index_key is not None else derived_index_key(master_key)
        if len(self._hash_key) != KEY_BYTES:
            raise ValueError("the blind-index key must be 32 bytes")

    @property
    def index_key(self) -> bytes:
        """The blind-index key, for :mod:`gongji.kernel.keys` to seal and carry over."""
        return self._hash_key

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

    def id_number_hash(self, number: str) -> str:
        """The blind index a person is found by from their ID number (``id_number``'s hash)."""
        return self.lookup_hash(number, context="id_number")

    def name_hash(self, name: str) -> str:
        """The blind index of a name, as :meth:`name` stores it."""
        return self.lookup_hash(name, context="name")

    def mobile_hash(self, mobile: str) -> str:
        """The blind index of a mobile number, as :meth:`mobile` stores it."""
        return self.lookup_hash(mobile, context="mobile")

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


def derived_index_key(master_key: bytes) -> bytes:
    """The blind-index key a database's first key gives it (and every database had before
    keys were fingerprinted)."""
    return _derive(master_key, _INDEX_LABEL)


def fingerprint(master_key: bytes) -> str:
    """An HMAC of a fixed label under the key: names the key without revealing it or either
    key derived from it (each derivation uses its own label)."""
    return hmac.new(master_key, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()


def decode_key(text: str, *, source: str) -> bytes:
    """A key from its URL-safe base64 text; anything else is refused naming only ``source``."""
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (ValueError, TypeError) as error:
        raise ValueError(f"{source}: not URL-safe base64") from error
    if len(key) != KEY_BYTES:
        raise ValueError(f"{source} must be {KEY_BYTES} bytes in URL-safe base64")
    return key


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def key_file(data_dir: Path) -> Path:
    return data_dir / KEY_FILE_NAME


def read_key(env_value: str | None, data_dir: Path) -> bytes | None:
    """The configured key, or the data directory's key file; ``None`` when neither exists."""
    if env_value:
        return decode_key(env_value, source="GONGJI_SECRET_KEY")
    path = key_file(data_dir)
    if not path.exists():
        return None
    if path.stat().st_mode & 0o077:  # left readable by others by an earlier version or by hand
        os.chmod(path, 0o600)
    return read_key_file(path)


def read_key_file(path: Path) -> bytes:
    return decode_key(path.read_text(encoding="ascii"), source=str(path))


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def write_key_file(path: Path, key: bytes) -> None:
    """Write ``key`` to a new file readable by its owner only (refuses an existing file)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(encode_key(key) + "\n")
    os.chmod(path, 0o600)  # whatever the umask made of it
