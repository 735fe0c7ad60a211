"""SM3 against GB/T 32905-2016's test vectors, and HMAC-SM3 by its RFC 2104 properties.

There are no official HMAC-SM3 vectors; the hand-written construction is checked against Python's
own ``hmac`` module driving the SM3 hash object (an independent implementation of RFC 2104),
against answers computed with OpenSSL, and by the properties the construction promises.
"""

from __future__ import annotations

import hmac

from hypothesis import given
from hypothesis import strategies as st

from gongji.core.sm3 import BLOCK_SIZE, Sm3, hmac_sm3, hmac_sm3_hex, sm3_digest, sm3_hex
from gongji.identity.service.signing import sign_request

VECTOR_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
VECTOR_ABCD_16 = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


def test_standard_vector_abc() -> None:
    assert sm3_hex(b"abc") == VECTOR_ABC


def test_standard_vector_512_bits() -> None:
    assert sm3_hex(b"abcd" * 16) == VECTOR_ABCD_16


def test_digest_is_32_bytes_even_for_empty_input() -> None:
    assert len(sm3_digest(b"")) == 32
    assert sm3_digest(b"") != sm3_digest(b"\x00")


@given(st.binary(max_size=300), st.integers(min_value=0, max_value=300))
def test_incremental_updates_equal_one_shot(data: bytes, cut: int) -> None:
    hasher = Sm3(data[:cut])
    hasher.update(data[cut:])
    assert hasher.hexdigest() == sm3_hex(data)


def test_digest_leaves_the_object_usable_and_copy_is_independent() -> None:
    hasher = Sm3(b"ab")
    first = hasher.digest()
    twin = hasher.copy()
    hasher.update(b"c")
    assert twin.digest() == first
    assert hasher.hexdigest() == VECTOR_ABC


@given(st.binary(max_size=200), st.binary(max_size=200))
def test_hmac_matches_the_standard_library_construction(key: bytes, message: bytes) -> None:
    assert hmac_sm3(key, message) == hmac.new(key, message, Sm3).digest()


def test_hmac_key_longer_than_a_block_is_hashed_first() -> None:
    long_key = b"k" * (BLOCK_SIZE + 1)
    assert hmac_sm3(long_key, b"message") == hmac_sm3(sm3_digest(long_key), b"message")


def test_hmac_key_of_exactly_a_block_is_used_as_is() -> None:
    key = b"k" * BLOCK_SIZE
    assert hmac_sm3(key, b"m") != hmac_sm3(sm3_digest(key), b"m")


def test_hmac_is_deterministic_and_keyed() -> None:
    assert hmac_sm3_hex(b"secret", b"abc") == hmac_sm3_hex(b"secret", b"abc")
    assert hmac_sm3(b"secret", b"abc") != hmac_sm3(b"secreT", b"abc")
    assert hmac_sm3(b"secret", b"abc") != hmac_sm3(b"secret", b"abd")
    assert hmac_sm3(b"secret", b"abc") != sm3_digest(b"abc")


def test_hmac_short_key_is_zero_padded() -> None:
    # RFC 2104: a key shorter than B is padded with zeros, so trailing zero bytes do not matter.
    assert hmac_sm3(b"key", b"m") == hmac_sm3(b"key\x00\x00", b"m")


# Computed independently with OpenSSL 3.0 (`printf … | openssl dgst -sm3 -hmac KEY`).
def test_hmac_known_answers_from_openssl() -> None:
    assert hmac_sm3_hex(b"secret-key", b"hello") == (
        "d172fd81fb83b1f2d7d598425b1b85a84289aadc5e5ef9e10ad65a3edfb8baef"
    )
    assert hmac_sm3_hex(b"K" * 100, b"hello") == (
        "4e0d627aa0c3828ef393a8a35b80045af5b5e1d741460c258c85469765bea868"
    )


def test_the_worked_example_of_docs_signing() -> None:
    body = b'{"infno":"1101","input":{"data":{"mdtrt_cert_type":"02","psn_no":"P620100000001"}}}'
    headers = sign_request(
        "H62010000001.3f9a0c2b7d4e5f61",
        "q8Xv2mZr0tY7uKp4sL1nB9wE6cH3jD5aG0fT2yR8iO4",
        "POST",
        "/fsi/api/rsfComIfsService/callService",
        body,
        1772416800,
        "8b1f0e6c2d4a4e7f9a3b5c7d9e1f2a4b",
    )
    assert headers["X-Gongji-Signature"] == (
        "af32b705ec06b1811c6087658cc9746028563061dc5f3dbb88d9cf4994a93500"
    )


@given(st.binary(max_size=150), st.binary(max_size=300))
def test_hex_form_equals_the_pure_python_construction(key: bytes, message: bytes) -> None:
    # hmac_sm3_hex takes OpenSSL's SM3 when the build has it; it must give the same bytes.
    assert hmac_sm3_hex(key, message) == hmac_sm3(key, message).hex()
