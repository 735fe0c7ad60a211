"""Institutions' signed requests (docs/signing.md), on SQLite and PostgreSQL.

The rule, the clock, the expected code: a good signature is the institution; a changed body or
path, a timestamp more than 300 s either side of the clock, a nonce seen before, an unknown or
revoked key, or a missing header is refused, each with its own code. Then the same through
HTTP, with the ``require_institution`` dependency on a tiny FastAPI app.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gongji.api.errors import install_error_handlers
from gongji.api.institution_auth import require_institution
from gongji.core.clock import ManualClock
from gongji.core.errors import GongjiError
from gongji.identity.service import signing
from gongji.identity.service.signing import sign_request
from gongji.institutions.domain.institutions import (
    Institution,
    InstitutionKind,
    InstitutionLevel,
    InstitutionStatus,
)
from gongji.institutions.service import institutions
from gongji.kernel.context import SYSTEM, Actor, ActorKind, Context
from gongji.store.tables_institutions import request_nonces
from support.race import race
from support.world import run

HOSPITAL = "H34010000001"
PATH = "/fsi/api/rsfComIfsService/callService"
BODY = json.dumps({"infno": "2207", "input": {"psn_no": "P1"}}).encode()
NONCE = "n-0123456789abcdef"


def register(ctx: Context, code: str = HOSPITAL) -> None:
    value = Institution(
        code, "合肥市示范医院", "340100", InstitutionKind.HOSPITAL, InstitutionLevel.TERTIARY,
        True, InstitutionStatus.ACTIVE,
    )  # fmt: skip
    run(ctx, lambda uow: institutions.register_institution(ctx, uow, SYSTEM, value))


@pytest.fixture
def key(ctx: Context) -> institutions.IssuedCredentials:
    register(ctx)
    return run(ctx, lambda uow: institutions.issue_credentials(ctx, uow, HOSPITAL))


def now_s(clock: ManualClock) -> int:
    return int(clock.now().timestamp())


def headers(
    key: institutions.IssuedCredentials,
    clock: ManualClock,
    *,
    nonce: str = NONCE,
    body: bytes = BODY,
    path: str = PATH,
    skew_s: int = 0,
) -> dict[str, str]:
    return sign_request(key.key_id, key.secret, "POST", path, body, now_s(clock) + skew_s, nonce)


def verify(ctx: Context, sent: dict[str, str], *, body: bytes = BODY, path: str = PATH) -> Actor:
    return signing.authenticate(ctx, "POST", path, body, sent)


def refusal(ctx: Context, sent: dict[str, str], **kwargs: Any) -> str:
    with pytest.raises(GongjiError) as caught:
        verify(ctx, sent, **kwargs)
    return caught.value.code


def nonces_stored(ctx: Context) -> int:
    with ctx.engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(request_nonces)).scalar_one()
        )


# --- the rules ------------------------------------------------------------------------------


def test_a_good_signature_is_the_institution(ctx: Context, clock: ManualClock, key: Any) -> None:
    assert verify(ctx, headers(key, clock)) == Actor(ActorKind.INSTITUTION, HOSPITAL)


def test_header_names_are_case_insensitive(ctx: Context, clock: ManualClock, key: Any) -> None:
    sent = {name.lower(): value for name, value in headers(key, clock).items()}
    assert verify(ctx, sent).id == HOSPITAL


def test_a_tampered_body_is_refused(ctx: Context, clock: ManualClock, key: Any) -> None:
    assert refusal(ctx, headers(key, clock), body=BODY + b" ") == "signature_invalid"


def test_a_tampered_path_is_refused(ctx: Context, clock: ManualClock, key: Any) -> None:
    sent = headers(key, clock)
    assert refusal(ctx, sent, path=PATH.replace("callService", "callServicf")) == (
        "signature_invalid"
    )


def test_a_signature_by_another_secret_is_refused(
    ctx: Context, clock: ManualClock, key: Any
) -> None:
    forged = institutions.IssuedCredentials(key.key_id, key.secret[:-1] + "x")
    assert refusal(ctx, headers(forged, clock)) == "signature_invalid"


@pytest.mark.parametrize("skew_s", [-300, 300])
def test_the_window_is_300_seconds_inclusive(
    ctx: Context, clock: ManualClock, key: Any, skew_s: int
) -> None:
    assert verify(ctx, headers(key, clock, skew_s=skew_s)).id == HOSPITAL


def test_a_stale_timestamp_is_refused(ctx: Context, clock: ManualClock, key: Any) -> None:
    sent = headers(key, clock)
    clock.advance(timedelta(seconds=301))
    assert refusal(ctx, sent) == "signature_expired"


def test_a_future_timestamp_is_refused(ctx: Context, clock: ManualClock, key: Any) -> None:
    assert refusal(ctx, headers(key, clock, skew_s=301)) == "signature_expired"


def test_a_replayed_nonce_is_refused(ctx: Context, clock: ManualClock, key: Any) -> None:
    sent = headers(key, clock)
    verify(ctx, sent)
    assert refusal(ctx, sent) == "signature_replayed"
    clock.advance(timedelta(seconds=5))  # even freshly signed again: the nonce is spent
    assert refusal(ctx, headers(key, clock)) == "signature_replayed"


def test_a_bad_signature_does_not_spend_the_nonce(
    ctx: Context, clock: ManualClock, key: Any
) -> None:
    assert refusal(ctx, headers(key, clock), body=b"tampered") == "signature_invalid"
    assert verify(ctx, headers(key, clock)).id == HOSPITAL


def test_an_unknown_key_is_refused(ctx: Context, clock: ManualClock, key: Any) -> None:
    stranger = institutions.IssuedCredentials(f"{HOSPITAL}.0000000000000000", key.secret)
    assert refusal(ctx, headers(stranger, clock)) == "signature_key_unknown"


def test_a_revoked_key_is_refused(ctx: Context, clock: ManualClock, key: Any) -> None:
    verify(ctx, headers(key, clock))
    run(ctx, lambda uow: institutions.revoke_credentials(ctx, uow, key.key_id))
    assert refusal(ctx, headers(key, clock, nonce="another-nonce-0001")) == "signature_key_unknown"


def test_a_key_revoked_by_another_process_is_refused_though_kept_here(
    ctx: Context, clock: ManualClock, key: Any
) -> None:
    verify(ctx, headers(key, clock))
    assert key.key_id in ctx.signing_keys  # the next signature is checked without a read
    other = replace(ctx, signing_keys={})  # another server process on the same database
    run(other, lambda uow: institutions.revoke_credentials(other, uow, key.key_id))
    assert refusal(ctx, headers(key, clock, nonce="another-nonce-0001")) == "signature_key_unknown"
    assert key.key_id not in ctx.signing_keys
    assert nonces_stored(ctx) == 1


def test_a_write_signed_with_a_key_revoked_meanwhile_changes_nothing(
    ctx: Context, clock: ManualClock, key: Any
) -> None:
    verified = signing.verify(ctx, "POST", PATH, BODY, headers(key, clock))
    run(ctx, lambda uow: institutions.revoke_credentials(ctx, uow, key.key_id))
    with pytest.raises(signing.SignatureKeyUnknown):
        signing.run_signed_write(ctx, verified, lambda uow: None)
    assert nonces_stored(ctx) == 0


def test_only_a_good_signature_keeps_a_key(ctx: Context, clock: ManualClock, key: Any) -> None:
    assert refusal(ctx, headers(key, clock), body=b"tampered") == "signature_invalid"
    assert ctx.signing_keys == {}
    verify(ctx, headers(key, clock))
    nonce = "second-nonce-00001"
    assert refusal(ctx, headers(key, clock, nonce=nonce), body=b"tampered") == "signature_invalid"


def test_a_revoked_key_kept_here_answers_unknown_whatever_it_signed(
    ctx: Context, clock: ManualClock, key: Any
) -> None:
    verify(ctx, headers(key, clock))
    other = replace(ctx, signing_keys={})
    run(other, lambda uow: institutions.revoke_credentials(other, uow, key.key_id))
    sent = headers(key, clock, nonce="another-nonce-0001")
    assert refusal(ctx, sent, body=b"tampered") == "signature_key_unknown"


def test_another_live_key_of_the_same_institution_still_works(
    ctx: Context, clock: ManualClock, key: Any
) -> None:
    second = run(ctx, lambda uow: institutions.issue_credentials(ctx, uow, HOSPITAL))
    run(ctx, lambda uow: institutions.revoke_credentials(ctx, uow, key.key_id))
    assert verify(ctx, headers(second, clock)).id == HOSPITAL


@pytest.mark.parametrize(
    "header",
    [signing.HEADER_KEY_ID, signing.HEADER_TIMESTAMP, signing.HEADER_NONCE,
     signing.HEADER_SIGNATURE],
)  # fmt: skip
def test_a_missing_header_is_refused(
    ctx: Context, clock: ManualClock, key: Any, header: str
) -> None:
    sent = headers(key, clock)
    del sent[header]
    assert refusal(ctx, sent) == "signature_missing"


@pytest.mark.parametrize(
    "nonce", ["short", "x" * 65, "has space in it 0123", "非ASCII的随机数随机数随机数随机数"]
)
def test_a_malformed_nonce_is_refused(
    ctx: Context, clock: ManualClock, key: Any, nonce: str
) -> None:
    assert refusal(ctx, headers(key, clock, nonce=nonce)) == "signature_missing"


def test_nonces_are_forgotten_after_twice_the_window(
    ctx: Context, clock: ManualClock, key: Any
) -> None:
    verify(ctx, headers(key, clock, nonce="first-nonce-000001"))
    verify(ctx, headers(key, clock, nonce="second-nonce-00001"))
    assert nonces_stored(ctx) == 2
    clock.advance(timedelta(seconds=2 * signing.WINDOW_S + 1))
    verify(ctx, headers(key, clock, nonce="third-nonce-000001"))  # purges this key's old ones
    assert nonces_stored(ctx) == 1
    clock.advance(timedelta(seconds=2 * signing.WINDOW_S + 1))
    assert run(ctx, lambda uow: signing.purge_nonces(ctx, uow)) == 1
    assert nonces_stored(ctx) == 0


def test_a_process_forgets_a_keys_nonces_at_most_once_a_minute(
    ctx: Context, clock: ManualClock, key: Any
) -> None:
    def at(seconds: int, nonce: str) -> int:
        clock.advance(timedelta(seconds=seconds))
        verify(ctx, headers(key, clock, nonce=nonce))
        return nonces_stored(ctx)

    kept_s = 2 * signing.WINDOW_S
    assert at(0, "nonce-at-0000000000") == 1  # forgets (nothing yet)
    assert at(20, "nonce-at-0000000020") == 2
    assert at(kept_s - 10, "nonce-at-kept-plus-10") == 2  # forgets the first, not the second
    assert at(30, "nonce-at-kept-plus-40") == 3  # the second expired, kept: a purge 30 s ago
    assert at(signing.NONCE_PURGE_EVERY_S - 30, "nonce-at-kept-plus-70") == 3  # forgets it


def test_racing_copies_of_one_request_pass_once(ctx: Context, clock: ManualClock, key: Any) -> None:
    sent = headers(key, clock)

    def attempt() -> str:
        try:
            verify(ctx, sent)
        except GongjiError as error:
            return error.code
        return "ok"

    outcomes = race([attempt] * 6)
    assert sorted(outcomes) == ["ok"] + ["signature_replayed"] * 5


# --- through HTTP ---------------------------------------------------------------------------


def tiny_app(ctx: Context) -> FastAPI:
    app = FastAPI()
    app.state.container = SimpleNamespace(context=ctx)
    install_error_handlers(app)

    @app.post(PATH)
    async def call_service(
        request: Request, actor: Annotated[Actor, Depends(require_institution)]
    ) -> dict[str, Any]:
        payload = await request.json()  # the body is still readable after the dependency
        if payload.get("fail"):
            raise institutions.CredentialUnknown(key_id="x")  # the command fails after auth
        return {"institution": actor.id, "infno": payload.get("infno")}

    return app


def test_http_signed_request_passes_and_replay_is_refused(
    ctx: Context, clock: ManualClock, key: Any
) -> None:
    client = TestClient(tiny_app(ctx))
    sent = headers(key, clock)
    first = client.post(PATH, content=BODY, headers=sent)
    again = client.post(PATH, content=BODY, headers=sent)
    assert first.status_code == 200, first.text
    assert first.json() == {"institution": HOSPITAL, "infno": "2207"}
    assert again.json()["code"] == "signature_replayed"


def test_http_refusals_carry_their_codes(ctx: Context, clock: ManualClock, key: Any) -> None:
    client = TestClient(tiny_app(ctx))
    tampered = client.post(PATH, content=BODY + b" ", headers=headers(key, clock))
    unsigned = client.post(PATH, content=BODY)
    stale = client.post(
        PATH, content=BODY, headers=headers(key, clock, nonce="stale-nonce-000001", skew_s=-301)
    )
    assert tampered.status_code >= 400 and tampered.json()["code"] == "signature_invalid"
    assert unsigned.json()["code"] == "signature_missing"
    assert stale.json()["code"] == "signature_expired"


def test_http_the_query_string_is_signed(ctx: Context, clock: ManualClock, key: Any) -> None:
    client = TestClient(tiny_app(ctx))
    signed = headers(key, clock, path=f"{PATH}?trace=1")
    wrong = client.post(f"{PATH}?trace=2", content=BODY, headers=signed)
    right = client.post(f"{PATH}?trace=1", content=BODY, headers=signed)
    assert wrong.json()["code"] == "signature_invalid"
    assert right.status_code == 200, right.text


def test_http_replay_is_refused_even_when_the_command_failed(
    ctx: Context, clock: ManualClock, key: Any
) -> None:
    client = TestClient(tiny_app(ctx))
    body = json.dumps({"fail": True}).encode()
    sent = headers(key, clock, body=body)
    failed = client.post(PATH, content=body, headers=sent)
    replayed = client.post(PATH, content=body, headers=sent)
    assert failed.json()["code"] == "credential_unknown"
    assert replayed.json()["code"] == "signature_replayed"
