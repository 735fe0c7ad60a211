"""The platform gateway's x-tif-* headers on the national interface, beside HMAC-SM3, through
HTTP on both databases: accepted only from an institution that chose them, with the same time
window and nonce rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from gongji.identity.service import gateway
from support.desk import HOSPITAL
from support.fsi import FSI_PATH, His, build_his, envelope, fill, ids
from support.world import run

PERSON = {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "<son_id>", "psn_name": "张建国"}}


@pytest.fixture
def his(engine: Engine, tmp_path: Path) -> Iterator[His]:
    built = build_his(engine, tmp_path)
    with built.client:
        yield built


def tif_call(
    his: His, nonce: str, *, timestamp: int | None = None, token: str | None = None
) -> Any:
    key = his.keys[HOSPITAL]
    body = json.dumps(fill(envelope("1101", PERSON, "H62010000001202603021000000000"), ids()))
    stamp = int(his.clock.now().timestamp()) if timestamp is None else timestamp
    headers = gateway.tif_headers(key.key_id, token or key.secret, stamp, nonce)
    sent = {**headers, "Content-Type": "application/json"}
    return his.client.post(FSI_PATH, content=body.encode(), headers=sent)


def choose(his: His, scheme: gateway.AuthScheme) -> None:
    def work(uow: Any) -> None:
        gateway.choose_scheme(his.ctx, uow, HOSPITAL, scheme)
        uow.commit()

    run(his.ctx, work)


def code_of(response: Any) -> str | None:
    assert response.status_code == 200, response.text
    if response.json()["infcode"] == 0:
        return None
    return str(response.headers["X-Gongji-Error-Code"])


def test_the_signature_is_sha256_of_timestamp_token_nonce_timestamp() -> None:
    # sha256("1733300000" "tok-123" "abcdefgh" "1733300000"), computed with sha256sum.
    expected = "3625b63e10b2005d9d4b733e5b9c9a8e6917e15ec7af708ea88520ef5f2a2ec2"
    assert gateway.tif_signature("tok-123", "1733300000", "abcdefgh") == expected


def test_tif_headers_only_from_an_institution_that_chose_them(his: His) -> None:
    assert code_of(tif_call(his, "nonce-0001")) == "signature_scheme_refused"
    choose(his, gateway.AuthScheme.TIF)
    assert code_of(tif_call(his, "nonce-0002")) is None
    answer = tif_call(his, "nonce-0003").json()
    assert answer["output"]["baseinfo"]["psn_no"] == "P620100000001"
    # HMAC-SM3 stays accepted: it is the stronger scheme (it covers the body).
    hmac_signed = his.call(fill(envelope("1101", PERSON, "H62010000001202603021000000009"), ids()))
    assert code_of(hmac_signed) is None
    choose(his, gateway.AuthScheme.HMAC_SM3)
    assert code_of(tif_call(his, "nonce-0004")) == "signature_scheme_refused"


def test_tif_replay_skew_and_bad_signatures_are_refused(his: His) -> None:
    choose(his, gateway.AuthScheme.TIF)
    assert code_of(tif_call(his, "nonce-0010")) is None
    assert code_of(tif_call(his, "nonce-0010")) == "signature_replayed"
    now = int(his.clock.now().timestamp())
    assert code_of(tif_call(his, "nonce-0011", timestamp=now - 301)) == "signature_expired"
    assert code_of(tif_call(his, "nonce-0012", timestamp=now * 1000)) is None  # milliseconds
    assert code_of(tif_call(his, "nonce-0013", token="not-the-secret")) == "signature_invalid"
    assert code_of(tif_call(his, "short")) == "signature_missing"
