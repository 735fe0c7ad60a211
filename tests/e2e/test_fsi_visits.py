"""An outpatient visit as a hospital's HIS sends it, through HTTP on both databases: 2201 →
2203 → 2204 (two batches) → 2205 of one → 2206/2207 by mdtrt_id + chrg_bchno → 2208; the
golden files in tests/data/fsi/, the per-msgid idempotency, and the refusals (each answered
infcode −1 with its code, nothing written). The visit is in support/fsi_visits.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from support.desk import PHARMACY
from support.fsi import MSGID, PHARMACY_INPUT, SON, His, balance, build_his, envelope, fill, ids
from support.fsi_visits import (
    REGISTER,
    REVOKE_SECOND,
    UPLOAD_FIRST,
    UPLOAD_SECOND,
    VISIT_INFO,
    golden,
    line,
    refused,
    settle_batch,
    visit_counts,
)

MSG = "H62010000001202603021000001"  # + 3 digits


@pytest.fixture
def his(engine: Engine, tmp_path: Path) -> Iterator[His]:
    built = build_his(engine, tmp_path)
    with built.client:
        yield built


def send(his: His, infno: str, input_: dict[str, Any], n: int, values: dict[str, str]) -> Any:
    answer = his.call(fill(envelope(infno, input_, f"{MSG}{n:03d}"), values)).json()
    assert answer["infcode"] == 0, answer["err_msg"]
    return answer["output"]


def opened(his: His, uploads: bool = True) -> dict[str, str]:
    """Register the visit (and upload both batches): the placeholders' values."""
    values = ids()
    values["<mdtrt_id>"] = send(his, "2201", REGISTER, 1, values)["data"]["mdtrt_id"]
    if uploads:
        send(his, "2204", UPLOAD_FIRST, 3, values)
        send(his, "2204", UPLOAD_SECOND, 4, values)
    return values


def test_outpatient_visit_from_registration_to_reversal(his: His) -> None:
    values = ids()
    registered = golden(his, "2201", envelope("2201", REGISTER, f"{MSG}001"), values)
    values["<mdtrt_id>"] = registered["data"]["mdtrt_id"]
    golden(his, "2203", envelope("2203", VISIT_INFO, f"{MSG}002"), values)
    uploaded = golden(his, "2204", envelope("2204", UPLOAD_FIRST, f"{MSG}003"), values)
    assert [r["overlmt_amt"] for r in uploaded["result"]] == [Decimal("0.00"), Decimal("40.00")]
    send(his, "2204", UPLOAD_SECOND, 4, values)
    golden(his, "2205", envelope("2205", REVOKE_SECOND, f"{MSG}005"), values)
    assert visit_counts(his.ctx.engine)[3] == ("uploaded", "uploaded", "revoked")
    quoted = golden(his, "2206_batch", envelope("2206", settle_batch(), f"{MSG}006"), values)
    assert quoted["setlinfo"]["balc"] == Decimal("7262.00")
    settled = golden(his, "2207_batch", envelope("2207", settle_batch(), f"{MSG}007"), values)
    assert balance(his, SON) == 726_200
    assert visit_counts(his.ctx.engine)[3] == ("settled", "settled", "revoked")
    values["<setl_id>"] = settled["setlinfo"]["setl_id"]
    reverse = {"data": {"setl_id": "<setl_id>", "mdtrt_id": "<mdtrt_id>", "psn_no": SON}}
    send(his, "2208", reverse, 8, values)
    assert balance(his, SON) == 790_000
    assert visit_counts(his.ctx.engine)[3] == ("uploaded", "uploaded", "revoked")
    again = send(his, "2207", settle_batch(), 9, values)  # released lines settle once more
    assert again["setlinfo"]["setl_id"] != values["<setl_id>"]
    assert balance(his, SON) == 726_200


def test_a_message_sent_again_is_answered_as_it_was_the_first_time(his: His) -> None:
    """The first answer is the handler's own output, a resent one the output as stored: the
    two must be the same text, amounts with their two decimals included."""
    values = ids()

    def output(infno: str, input_: dict[str, Any], n: int) -> str:
        answer = his.call(fill(envelope(infno, input_, f"{MSG}{n:03d}"), values))
        parsed = json.loads(answer.text, parse_float=str)  # numbers as written
        assert parsed["infcode"] == 0, parsed["err_msg"]
        return json.dumps(parsed["output"], ensure_ascii=False, sort_keys=True)

    registered = output("2201", REGISTER, 1)
    values["<mdtrt_id>"] = json.loads(registered)["data"]["mdtrt_id"]
    assert output("2201", REGISTER, 1) == registered
    uploaded = output("2204", UPLOAD_FIRST, 3)
    assert '"det_item_fee_sumamt": "600.00"' in uploaded  # a number written with two decimals
    assert output("2204", UPLOAD_FIRST, 3) == uploaded


def test_a_visit_with_nothing_uploaded_is_cancelled(his: His) -> None:
    values = opened(his, uploads=False)
    cancel = {"data": {"psn_no": SON, "mdtrt_id": "<mdtrt_id>", "ipt_otp_no": "MZ20260302001"}}
    golden(his, "2202", envelope("2202", cancel, f"{MSG}002"), values)
    send(his, "2202", cancel, 3, values)  # cancelling again changes nothing
    err = refused(his, envelope("2204", UPLOAD_FIRST, f"{MSG}004"), values, "visit_cancelled")
    assert "已撤销" in err


def test_every_message_runs_once_per_msgid(his: His) -> None:
    values = opened(his)
    first = send(his, "2201", REGISTER, 1, values)  # the registration, resent
    assert first["data"]["mdtrt_id"] == values["<mdtrt_id>"]
    before = visit_counts(his.ctx.engine)
    assert send(his, "2204", UPLOAD_FIRST, 3, values)["result"][0]["feedetl_sn"] == "1"
    assert visit_counts(his.ctx.engine) == before
    other = json.loads(json.dumps(UPLOAD_FIRST))
    other["feedetail"][0]["cnt"] = "2"
    other["feedetail"][0]["det_item_fee_sumamt"] = "1200.00"
    refused(his, envelope("2204", other, f"{MSG}003"), values, "fsi_msgid_reused")
    # The same lines under a new msgid are the same lines: nothing is added.
    send(his, "2204", UPLOAD_FIRST, 10, values)
    assert visit_counts(his.ctx.engine) == before
    # A settlement resent with its msgid gets its settlement back, the lines paid once.
    settled = send(his, "2207", settle_batch(), 11, values)
    resent = send(his, "2207", settle_batch(), 11, values)
    assert resent["setlinfo"]["setl_id"] == settled["setlinfo"]["setl_id"]
    assert balance(his, SON) == 726_200


def test_refusals_of_the_visit_transactions(his: His) -> None:
    values = opened(his)
    settle_msg = envelope("2207", settle_batch("CF002", "30.00"), f"{MSG}020")
    send(his, "2205", REVOKE_SECOND, 5, values)
    err = refused(his, settle_msg, values, "batch_revoked")
    assert "CF002" in err and "已撤销" in err
    # A batch number of another visit: a second visit of the son cannot upload into CF001.
    second = {"data": {**REGISTER["data"], "ipt_otp_no": "MZ20260302002"}}
    values2 = {**values, "<mdtrt_id>": send(his, "2201", second, 21, values)["data"]["mdtrt_id"]}
    err = refused(
        his, envelope("2204", UPLOAD_FIRST, f"{MSG}022"), values2, "batch_of_another_visit"
    )
    assert "CF001" in err
    err = refused(
        his, envelope("2207", settle_batch(), f"{MSG}023"), values2, "batch_of_another_visit"
    )
    # A visit with uploaded details cannot be cancelled.
    cancel = {"data": {"psn_no": SON, "mdtrt_id": "<mdtrt_id>", "ipt_otp_no": "MZ20260302001"}}
    refused(his, envelope("2202", cancel, f"{MSG}024"), values, "visit_has_fees")
    # The declared total must be the batch's.
    err = refused(
        his,
        envelope("2207", settle_batch("CF001", "700.00"), f"{MSG}028"),
        values,
        "fsi_amount_mismatch",
    )
    assert "medfee_sumamt" in err and "800.00" in err
    # Settled details cannot be revoked; a settled batch cannot be settled again.
    send(his, "2207", settle_batch(), 25, values)
    revoke_first = {"data": {**REVOKE_SECOND["data"], "chrg_bchno": "CF001"}}
    err = refused(his, envelope("2205", revoke_first, f"{MSG}026"), values, "fees_settled")
    assert "已结算" in err
    refused(his, envelope("2207", settle_batch(), f"{MSG}027"), values, "fees_settled")
    unknown = {**values, "<mdtrt_id>": "M0000000000000000000000"}
    err = refused(his, envelope("2204", UPLOAD_FIRST, f"{MSG}029"), unknown, "visit_not_found")
    assert "未找到就诊记录" in err


def test_a_batch_numbered_0000_is_refused_as_2205_reads_it_as_every_batch(his: His) -> None:
    values = opened(his, uploads=False)
    lines = [
        line("1", "CF001", "TA", "1", "600.00", "600.00"),
        line("2", "0000", "TX", "2", "100.00", "200.00"),
    ]
    err = refused(his, envelope("2204", {"feedetail": lines}, f"{MSG}040"), values,
                  "fsi_number_reserved")  # fmt: skip
    assert err == (
        "字段 feedetail[1].chrg_bchno 不能为 0000：交易 2205 以 0000 表示撤销全部未结算明细，"
        "请使用其他编号"
    )  # and nothing of the message, not even its valid first line, is stored (refused checks)
    send(his, "2204", UPLOAD_FIRST, 41, values)
    send(his, "2204", UPLOAD_SECOND, 42, values)
    send(his, "2205", {"data": {**REVOKE_SECOND["data"], "chrg_bchno": "0000"}}, 43, values)
    assert visit_counts(his.ctx.engine)[3] == ("revoked",) * 3  # 0000 still revokes them all


def test_bad_input_names_the_field(his: His) -> None:
    values = opened(his, uploads=False)
    for name in ("mdtrt_cert_no", "psn_name", "ipt_otp_no", "begntime"):
        data = {k: v for k, v in REGISTER["data"].items() if k != name}
        err = refused(
            his,
            envelope("2201", {"data": data}, f"{MSG}1{len(name):02d}"),
            values,
            "mdtrt_cert_required" if name == "mdtrt_cert_no" else "fsi_field_missing",
        )
        assert name in err or "不受理仅凭人员编号" in err  # a bare psn_no registers no visit
    for name in ("feedetl_sn", "chrg_bchno", "med_list_codg", "cnt", "pric", "mdtrt_id"):
        bad = line("1", "CF001", "TA", "1", "600.00", "600.00")
        del bad[name]
        err = refused(
            his,
            envelope("2204", {"feedetail": [bad]}, f"{MSG}2{len(name):02d}"),
            values,
            "fsi_field_missing",
        )
        assert f"feedetail[0].{name}" in err
    wrong_type = line("1", "CF001", "TA", "one", "600.00", "600.00")
    err = refused(
        his, envelope("2204", {"feedetail": [wrong_type]}, f"{MSG}300"), values, "fsi_field_invalid"
    )
    assert "feedetail[0].cnt" in err
    wrong_total = line("1", "CF001", "TA", "1", "600.00", "601.00")
    err = refused(
        his,
        envelope("2204", {"feedetail": [wrong_total]}, f"{MSG}301"),
        values,
        "fsi_amount_mismatch",
    )
    assert "det_item_fee_sumamt" in err
    other_person = {**line("1", "CF001", "TA", "1", "600.00", "600.00"), "psn_no": "P620100000002"}
    refused(
        his,
        envelope("2204", {"feedetail": [other_person]}, f"{MSG}302"),
        values,
        "visit_person_mismatch",
    )
    no_batch = {"data": {k: v for k, v in settle_batch()["data"].items() if k != "chrg_bchno"}}
    err = refused(his, envelope("2207", no_batch, f"{MSG}303"), values, "fsi_field_missing")
    assert "chrg_bchno" in err


def test_acct_used_flag_0_lets_no_account_money_pay_and_balc_stays_the_balance(his: His) -> None:
    # The son's batch with the flag 0: his 638.00 is cash, balc still his 7 900.00.
    values = opened(his)
    quoted = send(his, "2207", settle_batch(flag="0"), 30, values)["setlinfo"]
    assert (quoted["acct_pay"], quoted["psn_cash_pay"]) == (0, 678)
    assert quoted["balc"] == 7900
    assert balance(his, SON) == 790_000
    # The mother's grant from her son does not pay either when her HIS sends the flag 0.
    pharmacy = json.loads(json.dumps(PHARMACY_INPUT))
    pharmacy["data"]["acct_used_flag"] = "0"
    sent = his.call(fill(envelope("2102", pharmacy, MSGID["2102"], PHARMACY), ids())).json()
    assert sent["infcode"] == 0, sent["err_msg"]
    info = sent["output"]["setlinfo"]
    assert (info["acct_pay"], info["acct_mulaid_pay"], info["psn_cash_pay"]) == (0, 0, 35.5)
