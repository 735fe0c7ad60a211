"""SM3 (GB/T 32905-2016), the Chinese national hash, and HMAC-SM3 (RFC 2104), in pure Python.

Institutions sign requests with HMAC-SM3 (docs/signing.md) and the audit log chains its entries
with SM3 (docs/security.md). Neither Python's ``hashlib`` nor ``cryptography`` ships
SM3 everywhere (OpenSSL builds differ), so gongji carries its own: about two hundred lines of
arithmetic checked against the standard's two test vectors, not a dependency that may vanish.

:class:`Sm3` follows the ``hashlib`` object protocol (``update``, ``digest``, ``copy``,
``block_size``), so ``hmac.new(key, message, Sm3)`` works too; :func:`hmac_sm3` spells the RFC
2104 construction out so that the two can be checked against each other.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

BLOCK_SIZE: Final = 64
DIGEST_SIZE: Final = 32

_OPENSSL_SM3: Final = "sm3" in hashlib.algorithms_available
_MASK: Final = 0xFFFFFFFF
_IV: Final = (
    0x7380166F, 0x4914B2B9, 0x172442D7, 0xDA8A0600,
    0xA96F30BC, 0x163138AA, 0xE38DEE4D, 0xB0FB0E4E,
)  # fmt: skip


def _rotl(x: int, n: int) -> int:
    n %= 32
    return ((x << n) | (x >> (32 - n))) & _MASK


# T_j rotated left by j (mod 32), precomputed: the standard's constant per round.
_T_ROTATED: Final = tuple(_rotl(0x79CC4519 if j < 16 else 0x7A879D8A, j) for j in range(64))


def _p0(x: int) -> int:
    return x ^ _rotl(x, 9) ^ _rotl(x, 17)


def _p1(x: int) -> int:
    return x ^ _rotl(x, 15) ^ _rotl(x, 23)


def _expand(block: bytes) -> list[int]:
    """The 68 words W_0…W_67 of one 64-byte block (W'_j is W_j ^ W_{j+4}, taken in place)."""
    words = [int.from_bytes(block[i : i + 4], "big") for i in range(0, BLOCK_SIZE, 4)]
    for j in range(16, 68):
        mixed = words[j - 16] ^ words[j - 9] ^ _rotl(words[j - 3], 15)
        words.append(_p1(mixed) ^ _rotl(words[j - 13], 7) ^ words[j - 6])
    return words


def _compress(state: tuple[int, ...], block: bytes) -> tuple[int, ...]:
    """CF(V_i, B_i): 64 rounds; boolean functions change from XOR to majority/choice at 16."""
    w = _expand(block)
    a, b, c, d, e, f, g, h = state
    for j in range(64):
        a12 = _rotl(a, 12)
        ss1 = _rotl((a12 + e + _T_ROTATED[j]) & _MASK, 7)
        ss2 = ss1 ^ a12
        if j < 16:
            ff, gg = a ^ b ^ c, e ^ f ^ g
        else:
            ff, gg = (a & b) | (a & c) | (b & c), (e & f) | (~e & g)
        tt1 = (ff + d + ss2 + (w[j] ^ w[j + 4])) & _MASK
        tt2 = (gg + h + ss1 + w[j]) & _MASK
        a, b, c, d = tt1, a, _rotl(b, 9), c
        e, f, g, h = _p0(tt2), e, _rotl(f, 19), g
    return tuple(x ^ y for x, y in zip(state, (a, b, c, d, e, f, g, h), strict=True))


class Sm3:
    """An SM3 hash object with the ``hashlib`` protocol: feed bytes, read the digest."""

    name: Final = "sm3"
    block_size: Final = BLOCK_SIZE
    digest_size: Final = DIGEST_SIZE

    def __init__(self, data: bytes = b"") -> None:
        self._state: tuple[int, ...] = _IV
        self._pending = b""
        self._length = 0
        self.update(data)

    def update(self, data: bytes) -> None:
        self._length += len(data)
        pending = self._pending + bytes(data)
        whole = len(pending) - len(pending) % BLOCK_SIZE
        for start in range(0, whole, BLOCK_SIZE):
            self._state = _compress(self._state, pending[start : start + BLOCK_SIZE])
        self._pending = pending[whole:]

    def copy(self) -> Sm3:
        twin = Sm3()
        twin._state, twin._pending, twin._length = self._state, self._pending, self._length
        return twin

    def digest(self) -> bytes:
        """Pad with 1, zeros, and the 64-bit big-endian bit length; this object stays usable."""
        zeros = (BLOCK_SIZE - 9 - len(self._pending)) % BLOCK_SIZE
        tail = self._pending + b"\x80" + b"\x00" * zeros + (self._length * 8).to_bytes(8, "big")
        state = self._state
        for start in range(0, len(tail), BLOCK_SIZE):
            state = _compress(state, tail[start : start + BLOCK_SIZE])
        return b"".join(word.to_bytes(4, "big") for word in state)

    def hexdigest(self) -> str:
        return self.digest().hex()


def sm3_digest(data: bytes) -> bytes:
    return Sm3(data).digest()


def sm3_hex(data: bytes) -> str:
    return Sm3(data).hexdigest()


def hmac_sm3(key: bytes, message: bytes) -> bytes:
    """HMAC-SM3 by RFC 2104: H((K ^ opad) ‖ H((K ^ ipad) ‖ m)), with B = 64.

    A key longer than the block is hashed first; a shorter one is padded with zeros.
    """
    if len(key) > BLOCK_SIZE:
        key = sm3_digest(key)
    key = key.ljust(BLOCK_SIZE, b"\x00")
    inner = sm3_digest(bytes(k ^ 0x36 for k in key) + message)
    return sm3_digest(bytes(k ^ 0x5C for k in key) + inner)


def hmac_sm3_hex(key: bytes, message: bytes) -> str:
    """HMAC-SM3 in hex: OpenSSL's SM3 when this Python's build has it, else :func:`hmac_sm3`.

    Every signed request is hashed twice (client and server); the pure-Python rounds cost about
    2.5 ms a signature, OpenSSL's a few microseconds (``gongji bench settle`` showed the
    difference). Both give the same bytes (tests/unit/test_sm3.py checks them side by side).
    """
    if _OPENSSL_SM3:
        return hmac.new(key, message, "sm3").hexdigest()
    return hmac_sm3(key, message).hex()
