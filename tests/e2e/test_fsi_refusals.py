"""The national interface's refusals, idempotency and paths, through HTTP on both databases.

Each refusal is HTTP 200 with ``infcode`` −1, ``output`` null, a Chinese ``err_msg``, the
stable code in ``X-Gongji-Error-Code``, and nothing written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from gongji.fsi.http import transactions as fsi_transactions
from gongji.fsi.http.routes import serve
from gongji.institutions.domain.institutions import (
    Institution,
    InstitutionKind,
    InstitutionLevel,
    InstitutionStatus,
)
from gongji.institutions.service import institutions
from gongji.kernel.context import SYSTEM
from gongji.people.service.credentials_lookup import issue_ec_token
from support.desk import HOSPITAL, PHARMACY
from support.fsi import (
    MOTHER,
    MSGID,
    OUTPATIENT_INPUT,
    PHARMACY_INPUT,
    SON,
    His,
    balance,
    build_his,
    counts,
    decimal_json,
    envelope,
    fill,
    ids,
)
from support.race import race
from support.world import run


@pytest.fixture
def his(engine: Engine, tmp_path: Path) -> Iterator[His]:
    built = build_his(engine, tmp_path)
    with built.client:
        yield built


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
        ({"input__data__psn_no": "P999999999999"}, "person_not_identified",
         "未能凭所出示的就诊凭证识别参保人，请核对凭证和姓名"),
        ({"input__data__mdtrt_cert_no": None}, "mdtrt_cert_required", None),
        ({"input__data__psn_name": "王桂兰"}, "person_not_identified", None),
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


@pytest.mark.parametrize(
    ("input_", "code", "err_msg"),
    [
        ({"signIn": {"mac": "00:1A:2B:3C:4D:5E"}}, "fsi_field_missing",
         "缺少必填字段：signIn.opter_no"),
        ({"signIn": {"opter_no": "D0001", "ip": "<script>"}}, "fsi_field_invalid",
         "字段 signIn.ip 的值不正确（应为 [0-9A-Fa-f:.\\-]{1,45}）"),
        ({"signOut": {"opter_no": "D0001"}}, "fsi_field_missing", "缺少必填字段：signOut.sign_no"),
        ({"signOut": {"sign_no": "1 OR 1=1", "opter_no": "D0001"}}, "fsi_field_invalid",
         "字段 signOut.sign_no 的值不正确（应为 [A-Za-z0-9]{1,30}）"),
    ],
)  # fmt: skip
def test_sign_in_and_out_refusals(
    his: His, input_: dict[str, Any], code: str, err_msg: str
) -> None:
    infno = "9001" if "signIn" in input_ else "9002"
    refused(his.call(envelope(infno, input_, "H62010000001202603021000000030")), code, err_msg)


def test_1101_by_e_voucher_and_on_the_province_path(his: His) -> None:
    token = run(his.ctx, lambda uow: issue_ec_token(his.ctx, MOTHER))
    data = {"mdtrt_cert_type": "01", "mdtrt_cert_no": token}
    message = envelope("1101", {"data": data}, "P37010000001202603021000000010", PHARMACY)
    answer = decimal_json(his.call(message, "/fsi/api/fsiPsnInfoService/queryPsnInfo"))
    assert answer["infcode"] == 0, answer["err_msg"]
    assert answer["inf_refmsgid"].startswith("37000020260302100000")
    assert answer["output"]["baseinfo"]["psn_no"] == MOTHER
    assert answer["output"]["insuinfo"] == [
        {"insutype": "390", "psn_insu_stas": "1", "psn_insu_date": "2020-01-01",
         "paus_insu_date": None, "insuplc_admdvs": "370100", "balc": Decimal("0.00")},
    ]  # fmt: skip
    forged = envelope("1101", {"data": {**data, "mdtrt_cert_no": token[:-1] + "0"}}, "x1", PHARMACY)
    not_identified = "未能凭所出示的就诊凭证识别参保人，请核对凭证和姓名"
    refused(his.call(forged), "person_not_identified", not_identified)


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

    def sender(headers: dict[str, str]) -> Callable[[], dict[str, Any]]:
        return lambda: json.loads(serve(his.ctx, "POST", path, body, headers).body)

    answers = race([sender(headers) for headers in signed])
    assert [a["infcode"] for a in answers] == [0] * 8, [a["err_msg"] for a in answers]
    assert len({a["output"]["setlinfo"]["setl_id"] for a in answers}) == 1
    assert counts(his.ctx.engine)[0] == 1
    assert balance(his, SON) == 726_200


def test_racing_copies_of_one_signed_settlement_settle_once(his: His) -> None:
    # A captured 2207 sent eight times at once with its one signature: the nonce is spent in
    # the settlement's own transaction, so one copy settles and the others are replays.
    message = fill(envelope("2207", OUTPATIENT_INPUT, MSGID["2207"]), ids())
    body = json.dumps(message, ensure_ascii=False).encode()
    path = "/fsi/api/rsfComIfsService/callService"
    headers = his.signed(path, body, HOSPITAL)

    def send() -> str:
        answer = serve(his.ctx, "POST", path, body, headers)
        return answer.headers.get("X-Gongji-Error-Code", "ok")

    codes = race([send] * 8)
    assert sorted(codes) == ["ok"] + ["signature_replayed"] * 7
    assert counts(his.ctx.engine)[0] == 1
    assert balance(his, SON) == 726_200


def test_a_refused_settlement_spends_its_nonce(his: His) -> None:
    message = fill(envelope("2207", OUTPATIENT_INPUT, MSGID["2207"]), ids())
    message["input"]["feedetail"][0]["med_list_codg"] = "NO-SUCH-ITEM"
    body = json.dumps(message, ensure_ascii=False).encode()
    path = "/fsi/api/rsfComIfsService/callService"
    headers = his.signed(path, body, HOSPITAL)
    first = his.client.post(path, content=body, headers=headers)
    assert first.headers["X-Gongji-Error-Code"] == "item_unknown"
    again = his.client.post(path, content=body, headers=headers)
    assert again.headers["X-Gongji-Error-Code"] == "signature_replayed"
    assert counts(his.ctx.engine)[0] == 0


def test_a_suspended_institution_reconciles_but_does_not_settle(his: His) -> None:
    settled = his.call(fill(envelope("2207", OUTPATIENT_INPUT, MSGID["2207"]), ids())).json()
    assert settled["infcode"] == 0
    hospital = Institution(
        HOSPITAL, "兰州测试医院", "620100", InstitutionKind.HOSPITAL, InstitutionLevel.TERTIARY,
        True, InstitutionStatus.SUSPENDED,
    )  # fmt: skip
    run(his.ctx, lambda uow: institutions.register_institution(his.ctx, uow, SYSTEM, hospital))
    again = fill(envelope("2207", OUTPATIENT_INPUT, MSGID["2304"]), ids())
    refused(his.call(again), "institution_suspended", "定点医药机构 H62010000001 已暂停服务")
    totals = {
        "insutype": "310", "stmt_begndate": "2026-03-02", "stmt_enddate": "2026-03-02",
        "medfee_sumamt": "800.00", "fund_pay_sumamt": "122.00", "acct_pay": "638.00",
        "fixmedins_setl_cnt": 1,
    }  # fmt: skip
    reconciled = his.call(envelope("3201", {"data": totals}, "H62010000001202603021000000012"))
    assert reconciled.json()["output"]["stmtinfo"]["stmt_rslt"] == "0"


def test_a_bug_answers_an_envelope_without_a_traceback(
    his: His, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setitem(
        fsi_transactions.TRANSACTIONS,
        "1101",
        fsi_transactions.Transaction("人员信息获取", broken, writes=False),
    )
    message = envelope("1101", {"data": {"psn_no": SON}}, "H62010000001202603021000000013")
    response = his.call(message)
    assert response.status_code == 500
    assert response.json()["infcode"] == -1
    assert response.json()["err_msg"] == "系统内部错误，已记录，请稍后重试"
    assert "secret" not in response.text


def test_the_envelope_is_described_in_openapi(his: His) -> None:
    spec = his.client.get("/openapi.json").json()
    for path in ("/fsi/api/rsfComIfsService/callService", "/fsi/api/hospSettService/settV2"):
        body = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert body["example"]["infno"] == "1101"
    assert "/api/v1/reconciliation/detail" in spec["paths"]
