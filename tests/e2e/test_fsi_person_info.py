"""1101 person information as the platform defines it, through HTTP on both databases: by the
credential the patient presents, never by a bare psn_no; one answer for every failure; a limit
per institution; every look-up on record for the audit.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from gongji.core.ids import make_resident_id
from gongji.core.limits import Limits
from gongji.kernel.context import Actor, ActorKind, Role
from gongji.kernel.errors import Forbidden
from gongji.people.service.credentials_lookup import issue_ec_token
from gongji.people.service.lookups import lookups_of
from support.desk import HOSPITAL, PHARMACY
from support.fsi import MOTHER, SON, WIFE, His, build_his, envelope, id_number
from support.world import run

NOT_IDENTIFIED = "未能凭所出示的就诊凭证识别参保人，请核对凭证和姓名"
AUDITOR = Actor(ActorKind.OPERATOR, "audit", frozenset({Role.AUDITOR}))


@pytest.fixture
def his(engine: Engine, tmp_path: Path) -> Iterator[His]:
    built = build_his(engine, tmp_path)
    with built.client:
        yield built


def ask(his: His, data: dict[str, Any], n: int = 0, institution: str = HOSPITAL) -> Any:
    msgid = f"{institution}2026030210000{n:05d}"
    response = his.call(envelope("1101", {"data": data}, msgid, institution))
    assert response.status_code == 200, response.text
    return response


def refusal(response: Any) -> tuple[str, str, Any]:
    body = response.json()
    assert body["infcode"] == -1
    return response.headers["X-Gongji-Error-Code"], body["err_msg"], body["output"]


def test_a_bare_psn_no_is_refused_and_the_presented_card_is_answered(his: His) -> None:
    bare = ask(his, {"psn_no": SON}, 1)
    code, message, output = refusal(bare)
    assert code == "mdtrt_cert_required" and output is None
    assert "不受理仅凭人员编号" in message
    card = {"mdtrt_cert_type": "02", "mdtrt_cert_no": id_number(SON), "psn_name": "张建国"}
    answer = ask(his, card, 2).json()
    assert answer["infcode"] == 0, answer["err_msg"]
    base = answer["output"]["baseinfo"]
    assert base["psn_no"] == SON
    assert base["brdy"] == "1970-01-01" and base["gend"] in {"1", "2"}
    platform_form = {"psn_cert_type": "01", "certno": id_number(SON), "psn_name": "张建国"}
    assert ask(his, platform_form, 3).json()["output"]["baseinfo"]["psn_no"] == SON


def test_a_card_without_the_name_is_refused_before_any_look_up(his: His) -> None:
    code, _, _ = refusal(ask(his, {"mdtrt_cert_type": "03", "mdtrt_cert_no": id_number(SON)}))
    assert code == "fsi_field_missing"


def test_unknown_and_mismatched_credentials_get_one_and_the_same_answer(his: His) -> None:
    unknown_id = make_resident_id("620100", date(1980, 5, 5), 999)
    token = run(his.ctx, lambda uow: issue_ec_token(his.ctx, MOTHER))
    attempts = [
        {"mdtrt_cert_type": "02", "mdtrt_cert_no": unknown_id, "psn_name": "张建国"},
        {"mdtrt_cert_type": "02", "mdtrt_cert_no": id_number(SON), "psn_name": "王桂兰"},
        {"mdtrt_cert_type": "03", "mdtrt_cert_no": "not an id number", "psn_name": "张建国"},
        {"mdtrt_cert_type": "01", "mdtrt_cert_no": token[:-1] + "0"},
        {"mdtrt_cert_type": "01", "mdtrt_cert_no": token, "psn_no": WIFE},
        {"mdtrt_cert_type": "02", "mdtrt_cert_no": id_number(SON), "psn_name": "张建国",
         "psn_no": MOTHER},
    ]  # fmt: skip
    answers = {refusal(ask(his, data, n)) for n, data in enumerate(attempts, start=10)}
    assert answers == {("person_not_identified", NOT_IDENTIFIED, None)}


def test_an_expired_e_voucher_no_longer_identifies_anyone(his: His) -> None:
    token = run(his.ctx, lambda uow: issue_ec_token(his.ctx, MOTHER, valid_s=60))
    data = {"mdtrt_cert_type": "01", "mdtrt_cert_no": token}
    assert ask(his, data, 1, PHARMACY).json()["infcode"] == 0
    his.clock.advance(timedelta(seconds=61))
    assert refusal(ask(his, data, 2, PHARMACY))[0] == "person_not_identified"


def test_look_ups_per_institution_are_limited_before_any_work(his: His) -> None:
    object.__setattr__(his.ctx, "limits", Limits(fsi_lookups_per_minute=3))
    card = {"mdtrt_cert_type": "02", "mdtrt_cert_no": id_number(SON), "psn_name": "张建国"}
    for n in range(3):
        assert ask(his, card, n).json()["infcode"] == 0
    code, message, _ = refusal(ask(his, card, 3))
    assert code == "rate_limited" and "请求过于频繁" in message
    token = run(his.ctx, lambda uow: issue_ec_token(his.ctx, MOTHER))
    other = ask(his, {"mdtrt_cert_type": "01", "mdtrt_cert_no": token}, 4, PHARMACY)
    assert other.json()["infcode"] == 0  # another institution has its own allowance
    recorded = run(his.ctx, lambda uow: lookups_of(uow, AUDITOR, institution_code=HOSPITAL))
    assert len(recorded) == 3  # the refused fourth did no work and left no record


def test_every_look_up_is_on_record_for_the_auditor(his: His) -> None:
    card = {"mdtrt_cert_type": "02", "mdtrt_cert_no": id_number(SON), "psn_name": "张建国"}
    ask(his, card, 1)
    ask(his, {**card, "psn_name": "李四"}, 2)
    recorded = run(his.ctx, lambda uow: lookups_of(uow, AUDITOR, institution_code=HOSPITAL))
    assert [(r.psn_no, r.outcome, r.cert_type) for r in recorded] == [
        (None, "person_not_identified", "02"),
        (SON, "answered", "02"),
    ]
    assert {r.operator for r in recorded} == {"D0001 李医生"}
    assert recorded[1].msgid == f"{HOSPITAL}202603021000000001"
    of_son = run(his.ctx, lambda uow: lookups_of(uow, AUDITOR, psn_no=SON))
    assert [r.institution_code for r in of_son] == [HOSPITAL]
    clerk = Actor(ActorKind.OPERATOR, "clerk", frozenset({Role.CLERK}))
    with pytest.raises(Forbidden):
        run(his.ctx, lambda uow: lookups_of(uow, clerk))
