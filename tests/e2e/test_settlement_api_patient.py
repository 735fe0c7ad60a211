"""Who the patient of a REST settlement is, on both databases: the holder of the credential
presented (an e-voucher alone, or a card number with the holder's name), never a bare psn_no;
every failure one and the same answer; counted against the institution's allowance; every
refusal on record.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from gongji.core.ids import make_resident_id
from gongji.core.limits import Limits
from gongji.kernel.context import Actor, ActorKind, Role
from gongji.people.service.credentials_lookup import issue_ec_token
from gongji.people.service.lookups import lookups_of
from gongji.store.tables import ledger_transfers
from gongji.store.tables_settlements import settlements
from support.credentials import card, voucher
from support.desk import PHARMACY
from support.till import BASE, MOTHER, SON, Counter, mother_bill, open_counter
from support.world import IDS, run

AUDITOR = Actor(ActorKind.OPERATOR, "audit", frozenset({Role.AUDITOR}))
CREDENTIAL = ("mdtrt_cert_type", "mdtrt_cert_no", "psn_name")


@pytest.fixture
def counter(engine: Engine, tmp_path: Path) -> Iterator[Counter]:
    with open_counter(engine, tmp_path) as opened:
        yield opened


def bill(request_id: str, drop: tuple[str, ...] = (), **changes: Any) -> dict[str, Any]:
    body = {k: v for k, v in mother_bill(request_id).items() if k not in drop}
    return {**body, **changes}


def written(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        return (
            connection.execute(select(func.count()).select_from(settlements)).scalar_one(),
            connection.execute(select(func.count()).select_from(ledger_transfers)).scalar_one(),
        )


def both(counter: Counter, body: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """The answers of the quote and the settlement of ``body``, in that order."""
    answers = []
    for path in (f"{BASE}/quote", BASE):
        answer = counter.pharmacy.post(path, body)
        answers.append((answer.status_code, answer.json()))
    return answers


def test_a_bare_psn_no_or_a_card_without_its_name_is_refused(counter: Counter) -> None:
    before = written(counter.ctx.engine)
    bare = bill("bare", CREDENTIAL, psn_no=MOTHER)
    for status, answer in both(counter, bare):
        assert (status, answer["code"]) == (400, "mdtrt_cert_required")
        assert "人员编号" in answer["message"]
        assert "insuplc_admdvs" not in answer and "balc" not in answer
    nameless = bill("nameless", ("psn_name",))
    for status, answer in both(counter, nameless):
        assert (status, answer["code"]) == (400, "psn_name_required")
    assert written(counter.ctx.engine) == before


def test_every_failed_identification_is_one_answer(counter: Counter) -> None:
    counter.give(SON, MOTHER, 10_000)
    before = written(counter.ctx.engine)
    unknown = make_resident_id("370102", date(1944, 2, 18), 777)
    token = issue_ec_token(counter.ctx, MOTHER)
    expired = issue_ec_token(counter.ctx, MOTHER, valid_s=60)
    attempts = {
        "her card, another name": bill("a1", psn_name="张建国"),
        "a number not in the register": bill("a2", mdtrt_cert_no=unknown),
        "a malformed number": bill("a3", mdtrt_cert_no="370102194402181260"),
        "her card, another's psn_no": bill("a4", psn_no=SON),
        "a forged token": bill("a5", CREDENTIAL, mdtrt_cert_type="01", mdtrt_cert_no=token + "x"),
        "an expired token": bill("a6", CREDENTIAL, mdtrt_cert_type="01", mdtrt_cert_no=expired),
    }
    counter.clock.advance(timedelta(minutes=2))
    answers = {name: both(counter, body) for name, body in attempts.items()}
    assert {str(a) for a in answers.values()} == {str(answers["her card, another name"])}
    status, refusal = answers["a number not in the register"][0]
    assert (status, refusal["code"]) == (400, "person_not_identified")
    assert refusal["message"] == "未能凭所出示的就诊凭证识别参保人，请核对凭证和姓名"
    assert written(counter.ctx.engine) == before


def test_the_e_voucher_alone_or_the_card_with_the_name_settles(counter: Counter) -> None:
    counter.give(SON, MOTHER, 10_000)
    by_voucher = bill("v1", CREDENTIAL, **voucher(counter.ctx, MOTHER))
    quoted = counter.pharmacy.post(f"{BASE}/quote", by_voucher)
    assert quoted.status_code == 200, quoted.text
    assert quoted.json()["psn_no"] == MOTHER
    settled = counter.pharmacy.post(BASE, {**by_voucher, "psn_no": MOTHER})  # agreeing psn_no
    assert settled.status_code == 201, settled.text
    by_card = counter.pharmacy.post(BASE, bill("c1", **card(MOTHER, cert_type="03")))
    assert by_card.status_code == 201, by_card.text
    id_number, name = IDS[MOTHER]
    for answer in (quoted, settled, by_card):  # nothing the institution was not shown
        assert id_number not in answer.text and id_number[6:14] not in answer.text
        assert name not in answer.text and "brdy" not in answer.json()


def test_refusals_are_recorded_and_answers_are_on_record_as_settlements(counter: Counter) -> None:
    counter.pharmacy.post(BASE, bill("r1", psn_name="张建国"))
    counter.pharmacy.post(f"{BASE}/quote", bill("r2", psn_name="张建国"))
    counter.pharmacy.post(BASE, bill("r3"))
    recorded = run(counter.ctx, lambda uow: lookups_of(uow, AUDITOR, institution_code=PHARMACY))
    assert sorted((r.purpose, r.outcome, r.psn_no, r.cert_type, r.msgid) for r in recorded) == [
        ("REST 结算 就诊人身份核验", "person_not_identified", None, "02", "r1"),
        ("REST 预结算 就诊人身份核验", "person_not_identified", None, "02", "r2"),
    ]


def test_identifications_are_limited_per_institution(counter: Counter) -> None:
    object.__setattr__(counter.ctx, "limits", Limits(fsi_identifications_per_minute=3))
    assert counter.pharmacy.post(f"{BASE}/quote", bill("l1")).status_code == 200
    assert counter.pharmacy.post(BASE, bill("l2", psn_name="张建国")).status_code == 400
    assert counter.pharmacy.post(BASE, bill("l3")).status_code == 201
    limited = counter.pharmacy.post(f"{BASE}/quote", bill("l4"))
    assert (limited.status_code, limited.json()["code"]) == (429, "rate_limited")
    other = counter.hospital.post(f"{BASE}/quote", bill("l5", med_type="11"))
    assert other.status_code == 200, other.text  # another institution's own allowance
