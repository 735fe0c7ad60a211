"""Who the patient of a settlement or a registration is, through HTTP on both databases: the
holder of the credential presented (as 1101 reads it), never a bare psn_no; a registered
visit's later messages carry the identity its registration established; the person fields
(birth date, sex, age) go only to an institution that was shown the credential.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from gongji.core.ids import make_resident_id
from gongji.core.limits import Limits
from gongji.kernel.context import Actor, ActorKind, Role
from gongji.people.service.credentials_lookup import issue_ec_token
from gongji.people.service.lookups import lookups_of
from support.desk import PHARMACY
from support.fsi import (
    MOTHER,
    OUTPATIENT_INPUT,
    PHARMACY_INPUT,
    SON,
    WIFE,
    His,
    build_his,
    counts,
    envelope,
    fill,
    ids,
)
from support.fsi_visits import REGISTER, UPLOAD_FIRST, settle_batch, visit_counts
from support.world import run

AUDITOR = Actor(ActorKind.OPERATOR, "audit", frozenset({Role.AUDITOR}))
NOT_IDENTIFIED = "未能凭所出示的就诊凭证识别参保人，请核对凭证和姓名"


@pytest.fixture
def his(engine: Engine, tmp_path: Path) -> Iterator[His]:
    built = build_his(engine, tmp_path)
    with built.client:
        yield built


def call(his: His, infno: str, input_: dict[str, Any], n: int, values: dict[str, str]) -> Any:
    institution = PHARMACY if infno.startswith("21") else "H62010000001"
    msgid = f"{institution}2026030211{n:08d}"
    response = his.call(fill(envelope(infno, input_, msgid, institution), values))
    assert response.status_code == 200, response.text
    return response


def refused(his: His, infno: str, input_: dict[str, Any], n: int, values: dict[str, str]) -> str:
    """The refusal's code; nothing written (no settlement, transfer, visit)."""
    before = (counts(his.ctx.engine), visit_counts(his.ctx.engine))
    response = call(his, infno, input_, n, values)
    assert response.json()["infcode"] == -1 and response.json()["output"] is None
    assert (counts(his.ctx.engine), visit_counts(his.ctx.engine)) == before
    return str(response.headers["X-Gongji-Error-Code"])


def with_data(input_: dict[str, Any], drop: tuple[str, ...] = (), **data: Any) -> dict[str, Any]:
    kept = {k: v for k, v in input_["data"].items() if k not in drop}
    return {**input_, "data": {**kept, **data}}


CREDENTIAL = ("mdtrt_cert_type", "mdtrt_cert_no", "psn_name")


def test_a_bare_psn_no_settles_no_inline_bill(his: His) -> None:
    values = ids()
    for n, infno in enumerate(("2101", "2102"), start=1):
        bare = with_data(PHARMACY_INPUT, CREDENTIAL)
        assert refused(his, infno, bare, n, values) == "mdtrt_cert_required"
    for n, infno in enumerate(("2206", "2207"), start=3):
        bare = with_data(OUTPATIENT_INPUT, CREDENTIAL)
        assert refused(his, infno, bare, n, values) == "mdtrt_cert_required"


def test_every_failed_credential_is_one_answer(his: His) -> None:
    values = ids()
    token = issue_ec_token(his.ctx, WIFE)
    unknown_id = make_resident_id("370100", date(1944, 2, 18), 777)
    attempts = [
        with_data(PHARMACY_INPUT, psn_name="张建国"),  # the mother's card, another name
        with_data(PHARMACY_INPUT, mdtrt_cert_no=unknown_id),  # a number not in the register
        with_data(PHARMACY_INPUT, ("psn_name",), mdtrt_cert_type="01", mdtrt_cert_no=token),
        with_data(PHARMACY_INPUT, ("psn_no",), mdtrt_cert_type="01", mdtrt_cert_no=token + "x"),
    ]
    answers = set()
    for n, attempt in enumerate(attempts, start=1):
        response = call(his, "2101", attempt, n, values)
        answers.add((response.headers["X-Gongji-Error-Code"], response.json()["err_msg"]))
    assert answers == {("person_not_identified", NOT_IDENTIFIED)}
    card = with_data(PHARMACY_INPUT, ("psn_name",))
    assert refused(his, "2101", card, 9, values) == "fsi_field_missing"  # a card needs the name


def test_the_presented_credential_is_answered_with_the_person_fields(his: His) -> None:
    token = issue_ec_token(his.ctx, MOTHER)
    voucher = with_data(PHARMACY_INPUT, CREDENTIAL, mdtrt_cert_type="01", mdtrt_cert_no=token)
    info = call(his, "2101", voucher, 1, {}).json()["output"]["setlinfo"]
    assert (info["psn_no"], info["brdy"], info["age"]) == (MOTHER, "1944-02-18", 82)
    alone = with_data(voucher, ("psn_no",))  # the voucher alone names her
    assert call(his, "2101", alone, 2, {}).json()["output"]["setlinfo"]["psn_no"] == MOTHER


def test_a_visit_registers_on_a_credential_and_carries_it(his: His) -> None:
    values = ids()
    bare = with_data(REGISTER, CREDENTIAL)
    assert refused(his, "2201", bare, 1, values) == "mdtrt_cert_required"
    someone_else = with_data(REGISTER, psn_no=WIFE)  # the son's card, the wife's number
    assert refused(his, "2201", someone_else, 2, values) == "person_not_identified"
    opened = call(his, "2201", REGISTER, 3, values).json()
    values["<mdtrt_id>"] = opened["output"]["data"]["mdtrt_id"]
    assert call(his, "2204", UPLOAD_FIRST, 4, values).json()["infcode"] == 0
    by_visit = with_data(settle_batch(), CREDENTIAL)  # mdtrt_id + psn_no: the visit's patient
    other = with_data(by_visit, psn_no=WIFE)
    assert refused(his, "2207", other, 5, values) == "visit_person_mismatch"
    no_number = with_data(by_visit, ("psn_no",))
    assert refused(his, "2207", no_number, 6, values) == "fsi_field_missing"
    info = call(his, "2207", by_visit, 7, values).json()["output"]["setlinfo"]
    assert (info["psn_no"], info["brdy"], info["age"]) == (SON, "1970-01-01", 56)


def test_a_refused_identification_is_on_record_and_leaves_its_msgid_free(his: His) -> None:
    values = ids()
    someone_else = with_data(REGISTER, psn_no=WIFE)  # the son's card, the wife's number
    assert refused(his, "2201", someone_else, 1, values) == "person_not_identified"
    hospital = "H62010000001"
    recorded = run(his.ctx, lambda uow: lookups_of(uow, AUDITOR, institution_code=hospital))
    assert [(r.purpose, r.outcome, r.psn_no) for r in recorded] == [
        ("2201 就诊人身份核验", "person_not_identified", None)
    ]
    corrected = call(his, "2201", REGISTER, 1, values).json()  # the same msgid, now right
    assert corrected["infcode"] == 0 and corrected["output"]["data"]["psn_no"] == SON


def test_identifications_in_settlements_are_limited_per_institution(his: His) -> None:
    object.__setattr__(his.ctx, "limits", Limits(fsi_identifications_per_minute=2))
    values = ids()
    for n in (1, 2):
        assert call(his, "2101", PHARMACY_INPUT, n, values).json()["infcode"] == 0
    assert refused(his, "2101", PHARMACY_INPUT, 3, values) == "rate_limited"
    assert call(his, "2201", REGISTER, 4, values).json()["infcode"] == 0  # another institution
