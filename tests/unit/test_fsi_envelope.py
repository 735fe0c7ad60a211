"""The national envelope without a database: reading messages, required fields, the reply id
and times, and the reconciliation detail file."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gongji.core.errors import GongjiError
from gongji.fsi.http import envelope as fsi_envelope
from gongji.settlement.service.reconciliation import DetailLine, parse_detail_csv

FULL = {
    "infno": "2207", "msgid": "H62010000001202603021000000001", "mdtrtarea_admvs": "620100",
    "insuplc_admdvs": "", "recer_sys_code": "HIS", "dev_no": None, "infver": "V1.0",
    "opter_type": 1, "opter": "D1", "opter_name": "李医生", "inf_time": "2026-03-02 10:00:00",
    "fixmedins_code": "H62010000001", "fixmedins_name": "兰州测试医院", "input": {"data": {}},
}  # fmt: skip


def refusal(message: dict[str, object]) -> str:
    with pytest.raises(GongjiError) as caught:
        fsi_envelope.parse_envelope(message)
    return caught.value.message("zh")


def test_numbers_are_decimals_never_floats() -> None:
    message = fsi_envelope.read_message(b'{"input": {"pric": 31.5, "cnt": 2}}')
    assert message["input"] == {"pric": Decimal("31.5"), "cnt": 2}
    assert isinstance(message["input"]["pric"], Decimal)


@pytest.mark.parametrize("raw", [b"", b"nul", b"[]", b'"text"', b"\xff\xfe", b"[" * 100_000])
def test_what_is_not_a_json_object_is_refused(raw: bytes) -> None:
    with pytest.raises(fsi_envelope.FsiMessageInvalid):
        fsi_envelope.read_message(raw)


def test_a_full_envelope_reads_and_whole_numbers_are_codes() -> None:
    envelope = fsi_envelope.parse_envelope(FULL)
    assert (envelope.infno, envelope.fixmedins_code) == ("2207", "H62010000001")
    assert envelope.fields["opter_type"] == "1"
    assert envelope.fields["insuplc_admdvs"] is None  # empty counts as absent
    assert envelope.input == {"data": {}}


def test_each_required_field_is_named_when_missing() -> None:
    for name in fsi_envelope.REQUIRED:
        assert refusal({k: v for k, v in FULL.items() if k != name}) == f"缺少必填字段：{name}"
    assert refusal({**FULL, "input": None}) == "缺少必填字段：input"
    assert refusal({**FULL, "input": [1]}) == "字段 input 的值不正确（应为对象）"
    assert refusal({**FULL, "mdtrtarea_admvs": "6201"}).startswith("字段 mdtrtarea_admvs")
    assert refusal({**FULL, "msgid": "x" * 31}).startswith("字段 msgid")


def test_the_reply_id_and_times_are_the_platforms() -> None:
    received = datetime(2026, 3, 2, 2, 0, 0, 123_456, tzinfo=UTC)  # 10:00 in Shanghai
    reply = fsi_envelope.inf_refmsgid(fsi_envelope.region_of(FULL), received)
    assert len(reply) == 30 and reply.isdigit()
    assert reply.startswith("62000020260302100000")
    assert fsi_envelope.region_of({"mdtrtarea_admvs": 620100}) == "000000"  # not text: unreadable
    assert fsi_envelope.platform_time(received) == "2026-03-02 10:00:00.123"
    refused = fsi_envelope.answer("620000", received, received, None, "缺少必填字段：msgid")
    assert (refused["infcode"], refused["output"]) == (-1, None)
    assert fsi_envelope.answer("620000", received, received, {"a": 1})["infcode"] == 0


def test_a_detail_file_reads_reversals_and_ignores_other_columns() -> None:
    lines = parse_detail_csv(
        "psn_name,setl_id,medfee_sumamt,fund_pay_sumamt,acct_pay\n"
        "张三,S1,100.00,40,60.5\n"
        "张三,S2,-100.00,-40.00,-60.50\n"
    )
    assert lines == [
        DetailLine(2, "S1", (10_000, 4_000, 6_050)),
        DetailLine(3, "S2", (-10_000, -4_000, -6_050)),
    ]
