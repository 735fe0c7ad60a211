"""The national interface through HTTP, message by message, on both databases.

Each transaction has a golden file in tests/data/fsi/: the full request as a HIS sends it and
the full answer, with what varies between runs normalised (the reply id's random sequence,
settlement ids, masked ID numbers). The clock is fixed, so times are compared as they are.
``GONGJI_UPDATE_GOLDEN=1`` rewrites the files; read the diff before committing it: the numbers
in them are the worked examples below, checked by hand.

Then the refusals: each is HTTP 200 with ``infcode`` −1, a Chinese ``err_msg``, the stable
code in ``X-Gongji-Error-Code``, and nothing written.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from gongji.api.fsi_routes import serve
from gongji.services.accounts import personal_account_view
from gongji.services.credentials_lookup import issue_ec_token
from support.desk import HOSPITAL, PHARMACY
from support.fsi import (
    MOTHER,
    SON,
    His,
    build_his,
    counts,
    envelope,
    fill,
    id_number,
    normalise,
)
from support.world import run

GOLDEN = Path(__file__).parent.parent / "data" / "fsi"
UPDATE = os.environ.get("GONGJI_UPDATE_GOLDEN") == "1"


@pytest.fixture
def his(engine: Engine, tmp_path: Path) -> Iterator[His]:
    built = build_his(engine, tmp_path)
    with built.client:
        yield built


def golden(
    his: His, name: str, message: dict[str, Any], values: dict[str, str] | None = None
) -> Any:
    """Send ``message`` (placeholders filled from ``values``), compare with the golden file."""
    response = his.call(fill(message, values or {}))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["infcode"] == 0, answer["err_msg"]
    recorded = {"request": message, "response": normalise(answer)}
    path = GOLDEN / f"{name}.json"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(recorded, ensure_ascii=False, indent=2) + "\n", "utf-8")
    assert recorded == json.loads(path.read_text("utf-8"))
    return answer["output"]


# --- the bills --------------------------------------------------------------------------------

# The mother (resident 390, Jinan) at the Jinan pharmacy: 2 × 15.50 class A + 1 × 20.00 class C.
# 390 × 41: no deductible, ratio 50 %. In scope 31.00 → fund 15.50; class C 20.00 is full
# self-pay (cash only). Her burden 35.50: 15.50 from her son's grant (acct_mulaid_pay, inside
# acct_pay), 20.00 cash. She has no account of her own: balc 0.00. Amounts as JSON numbers.
PHARMACY_INPUT = {
    "data": {
        "psn_no": MOTHER,
        "mdtrt_cert_type": "02",
        "mdtrt_cert_no": "<mother_id>",
        "med_type": "41",
        "medfee_sumamt": 51.0,
        "psn_setlway": "01",
        "insutype": "390",
        "acct_used_flag": "1",
    },
    "drugdetail": [
        {"feedetl_sn": "1", "med_list_codg": "TA", "cnt": 2, "pric": 15.5,
         "det_item_fee_sumamt": 31.0},
        {"feedetl_sn": "2", "med_list_codg": "TC", "cnt": 1, "pric": 20, "det_item_fee_sumamt": 20},
    ],
}  # fmt: skip

# The son (employee 310, Lanzhou) at the Lanzhou tertiary hospital, outpatient (11):
# TA 1 × 600.00 class A; TX 2 × 100.00 class B, ceiling 80.00, 10 % first self-pay.
# TX: over the limit 2 × 20.00 = 40.00; first self-pay 2 × 8.00 = 16.00; in scope 144.00.
# In scope 744.00; deductible 500.00; fund (744 − 500) × 50 % = 122.00. Burden 678.00: accounts
# may pay 16.00 + 500.00 + 122.00 = 638.00 (his own account), the over-limit 40.00 is cash.
# His account holds 7 900.00 (8 000.00 less the 100.00 granted to his mother): balc 7 262.00.
# Amounts as text.
OUTPATIENT_INPUT = {
    "data": {
        "psn_no": SON,
        "mdtrt_cert_type": "02",
        "mdtrt_cert_no": "<son_id>",
        "mdtrt_id": "MZ20260302001",
        "med_type": "11",
        "medfee_sumamt": "800.00",
        "psn_setlway": "01",
        "insutype": "310",
        "acct_used_flag": "1",
    },
    "feedetail": [
        {"feedetl_sn": "1", "med_list_codg": "TA", "cnt": "1", "pric": "600.00",
         "det_item_fee_sumamt": "600.00"},
        {"feedetl_sn": "2", "med_list_codg": "TX", "cnt": "2", "pric": "100.00",
         "det_item_fee_sumamt": "200.00"},
    ],
}  # fmt: skip

# The son in hospital (21): TA 1 × 3 000.00. Deductible 1 000.00; fund 2 000.00 × 85 % =
# 1 700.00; burden 1 300.00 from his own account; balc 6 600.00.
INPATIENT_INPUT = {
    "data": {
        "psn_no": SON,
        "mdtrt_id": "ZY20260302001",
        "med_type": "21",
        "medfee_sumamt": "3000.00",
        "insutype": "310",
        "acct_used_flag": "1",
        "mid_setl_flag": "0",
    },
    "feedetail": [
        {"feedetl_sn": "1", "med_list_codg": "TA", "cnt": "1", "pric": "3000.00"},
    ],
}

MSGID = {
    "2101": "P37010000001202603021000000001",
    "2102": "P37010000001202603021000000002",
    "2103": "P37010000001202603021000000003",
    "2206": "H62010000001202603021000000001",
    "2207": "H62010000001202603021000000002",
    "2208": "H62010000001202603021000000003",
    "2303": "H62010000001202603021000000004",
    "2304": "H62010000001202603021000000005",
    "2305": "H62010000001202603021000000006",
}


def ids() -> dict[str, str]:
    return {"<son_id>": id_number(SON), "<mother_id>": id_number(MOTHER)}


def balance(his: His, psn_no: str) -> int:
    view = run(his.ctx, lambda uow: personal_account_view(his.ctx, uow, "620100", psn_no))
    return view.available_fen


# --- golden messages ------------------------------------------------------------------------


def test_1101_person_info_by_id_card(his: His) -> None:
    message = envelope(
        "1101",
        {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "<son_id>", "psn_name": "张建国"}},
        "H62010000001202603021000000000",
    )
    output = golden(his, "1101", message, ids())
    assert output["baseinfo"]["psn_no"] == SON
    assert output["insuinfo"][0]["balc"] == "7900.00"  # 8 000.00 less his grant


def test_2101_2102_2103_pharmacy_with_a_grant(his: His) -> None:
    quoted = golden(his, "2101", envelope("2101", PHARMACY_INPUT, MSGID["2101"], PHARMACY), ids())
    assert quoted["setlinfo"]["acct_mulaid_pay"] == "15.50"
    assert counts(his.ctx.engine)[0] == 0  # pre-settle writes nothing
    settled = golden(his, "2102", envelope("2102", PHARMACY_INPUT, MSGID["2102"], PHARMACY), ids())
    assert {k: settled["setlinfo"][k] for k in ("acct_pay", "acct_mulaid_pay", "psn_cash_pay")} == {
        "acct_pay": "15.50",
        "acct_mulaid_pay": "15.50",
        "psn_cash_pay": "20.00",
    }
    reverse = {"data": {"setl_id": "<setl_id>", "psn_no": MOTHER}}
    reversed_ = golden(
        his,
        "2103",
        envelope("2103", reverse, MSGID["2103"], PHARMACY),
        {"<setl_id>": settled["setlinfo"]["setl_id"]},
    )
    assert reversed_["setlinfo"]["acct_mulaid_pay"] == "-15.50"
    assert reversed_["setlinfo"]["init_setl_id"] == settled["setlinfo"]["setl_id"]


def test_2206_2207_2208_outpatient_own_account(his: His) -> None:
    quoted = golden(his, "2206", envelope("2206", OUTPATIENT_INPUT, MSGID["2206"]), ids())
    assert quoted["setlinfo"]["balc"] == "7262.00"
    assert balance(his, SON) == 790_000
    settled = golden(his, "2207", envelope("2207", OUTPATIENT_INPUT, MSGID["2207"]), ids())
    assert balance(his, SON) == 726_200
    reverse = {"data": {"setl_id": "<setl_id>", "mdtrt_id": "MZ20260302001", "psn_no": SON}}
    golden(
        his,
        "2208",
        envelope("2208", reverse, MSGID["2208"]),
        {"<setl_id>": settled["setlinfo"]["setl_id"]},
    )
    assert balance(his, SON) == 790_000


def test_2303_2304_2305_inpatient(his: His) -> None:
    golden(his, "2303", envelope("2303", INPATIENT_INPUT, MSGID["2303"]))
    settled = golden(his, "2304", envelope("2304", INPATIENT_INPUT, MSGID["2304"]))
    assert balance(his, SON) == 660_000
    reverse = {"data": {"setl_id": "<setl_id>", "mdtrt_id": "ZY20260302001", "psn_no": SON}}
    golden(
        his,
        "2305",
        envelope("2305", reverse, MSGID["2305"]),
        {"<setl_id>": settled["setlinfo"]["setl_id"]},
    )
    assert balance(his, SON) == 790_000


def test_3201_totals_balanced_and_not(his: His) -> None:
    # The hospital settles the outpatient bill, then the inpatient one, and reconciles the day
    # for insutype 310. The yearly deductible is one per person and insutype: the outpatient
    # bill used 500.00 of it, so in hospital only 500.00 more is due and the fund pays
    # 2 500.00 × 85 % = 2 125.00. Totals: 3 800.00; fund 122.00 + 2 125.00 = 2 247.00;
    # accounts 638.00 + 875.00 = 1 513.00.
    for infno, bill in (("2207", OUTPATIENT_INPUT), ("2304", INPATIENT_INPUT)):
        sent = his.call(fill(envelope(infno, bill, MSGID[infno]), ids())).json()
        assert sent["infcode"] == 0, sent["err_msg"]
    totals = {
        "insutype": "310",
        "clr_type": "",
        "setl_optins": "620100",
        "stmt_begndate": "2026-03-02",
        "stmt_enddate": "2026-03-02",
        "medfee_sumamt": "3800.00",
        "fund_pay_sumamt": "2247.00",
        "acct_pay": "1513.00",
        "fixmedins_setl_cnt": "2",
    }
    balanced = golden(
        his, "3201", envelope("3201", {"data": totals}, "H62010000001202603021000000007")
    )
    assert balanced["stmtinfo"]["stmt_rslt"] == "0"
    # The HIS missed a refund of 12.00 paid from the account and counts one bill too many.
    wrong = {**totals, "medfee_sumamt": 3812.0, "acct_pay": 1525.0, "fixmedins_setl_cnt": 3}
    unbalanced = golden(
        his, "3201_unbalanced", envelope("3201", {"data": wrong}, "H62010000001202603021000000008")
    )
    assert unbalanced["stmtinfo"]["stmt_rslt"] == "1"
    assert unbalanced["diff"] == {
        "fixmedins_setl_cnt": 1,
        "medfee_sumamt": "12.00",
        "fund_pay_sumamt": "0.00",
        "acct_pay": "12.00",
    }


# --- idempotency and the per-transaction paths ----------------------------------------------


def test_a_resent_settlement_is_the_same_settlement(his: His) -> None:
    message = fill(envelope("2207", OUTPATIENT_INPUT, MSGID["2207"]), ids())
    first = his.call(message).json()
    again = his.call(message).json()
    assert first["infcode"] == again["infcode"] == 0
    assert again["output"]["setlinfo"]["setl_id"] == first["output"]["setlinfo"]["setl_id"]
    assert balance(his, SON) == 726_200
    other = json.loads(json.dumps(message))
    other["input"]["feedetail"][0]["cnt"] = "2"
    other["input"]["feedetail"][0]["det_item_fee_sumamt"] = "1200.00"
    other["input"]["data"]["medfee_sumamt"] = "1400.00"
    refused = his.call(other)
    assert refused.json()["infcode"] == -1
    assert refused.headers["X-Gongji-Error-Code"] == "settlement_request_reused"
    assert balance(his, SON) == 726_200


def test_a_province_path_serves_its_own_transaction_only(his: His) -> None:
    path = "/fsi/api/outpatientSettleService/saveSettletmentV2"
    done = his.call(fill(envelope("2207", OUTPATIENT_INPUT, MSGID["2207"]), ids()), path).json()
    assert done["infcode"] == 0, done["err_msg"]
    wrong = his.call(fill(envelope("2206", OUTPATIENT_INPUT, MSGID["2206"]), ids()), path)
    assert wrong.json()["err_msg"] == "该地址只受理交易 2207，报文交易编号为 2206"


# --- refusals -----------------------------------------------------------------------------------


def refused(response: Any, code: str, err_msg: str) -> None:
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["infcode"] == -1
    assert answer["err_msg"] == err_msg
    assert answer["output"] is None
    assert response.headers["X-Gongji-Error-Code"] == code
    assert answer["inf_refmsgid"][20:].isdigit() and len(answer["inf_refmsgid"]) == 30


def settle_message(**changes: Any) -> dict[str, Any]:
    message = fill(envelope("2207", OUTPATIENT_INPUT, MSGID["2207"]), ids())
    message = json.loads(json.dumps(message))
    for path, value in changes.items():
        node = message
        *parents, leaf = path.split("__")
        for name in parents:
            node = node[int(name)] if name.isdigit() else node[name]
        if value is None:
            del node[leaf]
        else:
            node[leaf] = value
    return dict(message)


@pytest.mark.parametrize(
    ("changes", "code", "err_msg"),
    [
        ({"msgid": None}, "fsi_field_missing", "缺少必填字段：msgid"),
        ({"opter_name": ""}, "fsi_field_missing", "缺少必填字段：opter_name"),
        ({"input": None}, "fsi_field_missing", "缺少必填字段：input"),
        ({"infno": "9999"}, "fsi_infno_unknown", "不支持的交易编号：9999"),
        ({"inf_time": "2026/03/02"}, "fsi_field_invalid",
         "字段 inf_time 的值不正确（应为 [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}）"),
        ({"input__data__med_type": "21"}, "fsi_med_type_mismatch",
         "交易 2207 不能办理医疗类别 21（应为 11、14）"),
        ({"input__data__acct_used_flag": None}, "fsi_field_missing",
         "缺少必填字段：acct_used_flag"),
        ({"input__data__insutype": "390"}, "fsi_insutype_mismatch",
         "险种类型 390 与人员参保信息（310）不符"),
        ({"input__data__medfee_sumamt": "799.99"}, "fsi_amount_mismatch",
         "medfee_sumamt 为 799.99，与中心计算结果 800.00 不符"),
        ({"input__feedetail__1__det_item_fee_sumamt": "210.00"}, "fsi_amount_mismatch",
         "feedetail[1].det_item_fee_sumamt 为 210.00，与中心计算结果 200.00 不符"),
        ({"input__feedetail__0__pric": "600.005"}, "amount_too_precise",
         "字段 feedetail[0].pric：金额最多保留两位小数：600.005"),
        ({"input__feedetail__0__pric": True}, "amount_type_refused",
         "字段 feedetail[0].pric：金额类型不正确：bool"),
        ({"input__feedetail__0__cnt": "NaN"}, "fsi_field_invalid",
         "字段 feedetail[0].cnt 的值不正确（应为数字）"),
        ({"input__feedetail__0__cnt": "99999999999999999999"}, "item_quantity_invalid",
         "项目数量不正确：TA 99999999999999999999"),
        ({"input__feedetail__0__cnt": "-1"}, "item_quantity_invalid", "项目数量不正确：TA -1"),
        ({"input__feedetail__0__med_list_codg": "NOPE"}, "item_unknown", None),
        ({"input__feedetail": []}, "bill_empty", None),
        ({"input__data__psn_no": "P999999999999", "input__data__mdtrt_cert_no": None},
         "not_found", "未找到人员"),
        ({"fixmedins_code": PHARMACY}, "fsi_institution_mismatch",
         "报文中的定点医药机构编号 P37010000001 与签名机构不一致"),
    ],
)  # fmt: skip
def test_bad_messages_are_refused_and_write_nothing(
    his: His, changes: dict[str, Any], code: str, err_msg: str | None
) -> None:
    before = counts(his.ctx.engine)
    body = json.dumps(settle_message(**changes), ensure_ascii=False).encode()
    response = his.post_raw(body, HOSPITAL)
    answer = response.json()
    refused(response, code, err_msg if err_msg is not None else answer["err_msg"])
    assert answer["err_msg"] and not answer["err_msg"].isascii()  # Chinese
    assert counts(his.ctx.engine) == before


def test_a_med_type_the_institution_cannot_settle(his: His) -> None:
    # The pharmacy sends an outpatient settlement: its kind provides 41 only.
    message = fill(
        envelope("2207", OUTPATIENT_INPUT, "P37010000001202603021000000009", PHARMACY), ids()
    )
    refused(his.call(message), "med_type_not_allowed", "该机构不能办理此医疗类别（11）")
    # And the hospital a pharmacy purchase.
    message = fill(envelope("2102", PHARMACY_INPUT, MSGID["2102"], HOSPITAL), ids())
    refused(his.call(message), "med_type_not_allowed", "该机构不能办理此医疗类别（41）")
    assert counts(his.ctx.engine)[0] == 0


def test_bad_signatures_and_bodies(his: His) -> None:
    message = fill(envelope("2207", OUTPATIENT_INPUT, MSGID["2207"]), ids())
    body = json.dumps(message, ensure_ascii=False).encode()
    # Signed, then changed on the way: the amount of a line.
    headers = his.signed("/fsi/api/rsfComIfsService/callService", body, HOSPITAL)
    tampered = body.replace(b'"600.00"', b'"60.00"')
    response = his.client.post(
        "/fsi/api/rsfComIfsService/callService", content=tampered, headers=headers
    )
    refused(response, "signature_invalid", "请求签名不正确")
    # Not signed at all, test traffic or not: signtype MOCK does not replace the signature.
    mock = json.dumps({**message, "signtype": "MOCK"}).encode()
    response = his.client.post("/fsi/api/rsfComIfsService/callService", content=mock)
    refused(response, "signature_missing", "请求缺少签名信息或格式不正确：X-Gongji-Key-Id")
    # Signed but not JSON, or not an object.
    for raw in (b"not json", b"[1, 2]", b'{"infno": "1101"'):
        refused(
            his.post_raw(raw), "fsi_message_invalid", "报文格式不正确：应为 UTF-8 编码的 JSON 对象"
        )
    assert counts(his.ctx.engine)[0] == 0


def test_a_reversal_of_another_group_or_institution_is_refused(his: His) -> None:
    settled = his.call(fill(envelope("2207", OUTPATIENT_INPUT, MSGID["2207"]), ids())).json()
    setl_id = settled["output"]["setlinfo"]["setl_id"]
    inpatient = envelope("2305", {"data": {"setl_id": setl_id}}, MSGID["2305"])
    refused(
        his.call(inpatient), "fsi_med_type_mismatch", "交易 2305 不能办理医疗类别 11（应为 21）"
    )
    other = envelope("2103", {"data": {"setl_id": setl_id}}, MSGID["2103"], PHARMACY)
    refused(his.call(other), "not_found", "未找到结算记录")
    wrong_person = envelope("2208", {"data": {"setl_id": setl_id, "psn_no": MOTHER}}, MSGID["2208"])
    refused(his.call(wrong_person), "fsi_person_mismatch", "人员编号与原结算记录不符")
    assert balance(his, SON) == 726_200


def test_1101_by_e_voucher_and_on_the_province_path(his: His) -> None:
    token = run(his.ctx, lambda uow: issue_ec_token(his.ctx, MOTHER))
    data = {"mdtrt_cert_type": "01", "mdtrt_cert_no": token}
    message = envelope("1101", {"data": data}, "P37010000001202603021000000010", PHARMACY)
    answer = his.call(message, "/fsi/api/fsiPsnInfoService/queryPsnInfo").json()
    assert answer["infcode"] == 0, answer["err_msg"]
    assert answer["inf_refmsgid"].startswith("37000020260302100000")
    assert answer["output"]["baseinfo"]["psn_no"] == MOTHER
    assert answer["output"]["insuinfo"] == [
        {"insutype": "390", "psn_insu_stas": "1", "psn_insu_date": "2020-01-01",
         "paus_insu_date": None, "insuplc_admdvs": "370100", "balc": "0.00"},
    ]  # fmt: skip
    forged = envelope("1101", {"data": {**data, "mdtrt_cert_no": token[:-1] + "0"}}, "x1", PHARMACY)
    refused(his.call(forged), "mdtrt_cert_invalid", "医保电子凭证无效或已过期，请重新扫码")


@pytest.mark.parametrize(
    ("changes", "code", "err_msg"),
    [
        ({"insutype": None}, "fsi_field_missing", "缺少必填字段：insutype"),
        ({"clr_type": "99"}, "fsi_field_invalid", "字段 clr_type 的值不正确（应为 11、21 或 41）"),
        ({"stmt_enddate": "2026-02-30"}, "fsi_field_invalid",
         "字段 stmt_enddate 的值不正确（应为 yyyy-MM-dd）"),
        ({"stmt_begndate": "2026-03-03"}, "stmt_period_invalid",
         "对账起止日期不正确：2026-03-03 至 2026-03-02（最长 366 天）"),
        ({"acct_pay": "1.001"}, "amount_too_precise", "字段 acct_pay：金额最多保留两位小数：1.001"),
        ({"fixmedins_setl_cnt": "two"}, "fsi_field_invalid",
         "字段 fixmedins_setl_cnt 的值不正确（应为 -?[0-9]{1,9}）"),
    ],
)  # fmt: skip
def test_3201_refusals(his: His, changes: dict[str, Any], code: str, err_msg: str) -> None:
    data: dict[str, Any] = {
        "insutype": "310", "stmt_begndate": "2026-03-02", "stmt_enddate": "2026-03-02",
        "medfee_sumamt": "0.00", "fund_pay_sumamt": "0.00", "acct_pay": "0.00",
        "fixmedins_setl_cnt": 0,
    }  # fmt: skip
    for name, value in changes.items():
        if value is None:
            del data[name]
        else:
            data[name] = value
    message = envelope("3201", {"data": data}, "H62010000001202603021000000011")
    refused(his.call(message), code, err_msg)


def test_a_replayed_message_is_refused(his: His) -> None:
    message = fill(envelope("2206", OUTPATIENT_INPUT, MSGID["2206"]), ids())
    body = json.dumps(message, ensure_ascii=False).encode()
    headers = his.signed("/fsi/api/rsfComIfsService/callService", body, HOSPITAL)
    first = his.client.post("/fsi/api/rsfComIfsService/callService", content=body, headers=headers)
    assert first.json()["infcode"] == 0
    again = his.client.post("/fsi/api/rsfComIfsService/callService", content=body, headers=headers)
    refused(again, "signature_replayed", "该请求已处理过（随机数重复），请使用新的随机数重新签名")
    # The reply id names the place of treatment's province even on a refusal; "000000" when
    # the body cannot be read at all.
    assert again.json()["inf_refmsgid"].startswith("620000")
    assert his.post_raw(b"\xff").json()["inf_refmsgid"].startswith("000000")


def test_concurrent_copies_of_one_settlement_make_one(his: His) -> None:
    # A HIS that times out and resends while the first copy is still running: eight copies of
    # one 2207 (same msgid, each freshly signed) at once settle the bill once.
    message = fill(envelope("2207", OUTPATIENT_INPUT, MSGID["2207"]), ids())
    body = json.dumps(message, ensure_ascii=False).encode()
    path = "/fsi/api/rsfComIfsService/callService"
    signed = [his.signed(path, body, HOSPITAL) for _ in range(8)]
    answers: list[dict[str, Any]] = []
    barrier = threading.Barrier(len(signed))

    def send(headers: dict[str, str]) -> None:
        barrier.wait()
        answers.append(json.loads(serve(his.ctx, "POST", path, body, headers).body))

    threads = [threading.Thread(target=send, args=(headers,)) for headers in signed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a["infcode"] for a in answers] == [0] * 8, [a["err_msg"] for a in answers]
    assert len({a["output"]["setlinfo"]["setl_id"] for a in answers}) == 1
    assert counts(his.ctx.engine)[0] == 1
    assert balance(his, SON) == 726_200
