"""2601 冲正 through HTTP on both databases: the HIS sent a message, never got the answer, and
asks gongji to undo whatever it did. Settlements (inline or by batch), registrations and uploads
are undone; a message never carried out is refused, and nothing is written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from support.desk import PHARMACY
from support.fsi import (
    MOTHER,
    MSGID,
    PHARMACY_INPUT,
    SON,
    His,
    balance,
    build_his,
    envelope,
    fill,
    ids,
)
from support.fsi_visits import REGISTER, UPLOAD_FIRST, golden, refused, settle_batch, visit_counts

MSG = "H62010000001202603021000003"  # + 3 digits


@pytest.fixture
def his(engine: Engine, tmp_path: Path) -> Iterator[His]:
    built = build_his(engine, tmp_path)
    with built.client:
        yield built


def send(his: His, infno: str, input_: dict[str, Any], n: int, values: dict[str, str]) -> Any:
    answer = his.call(fill(envelope(infno, input_, f"{MSG}{n:03d}"), values)).json()
    assert answer["infcode"] == 0, answer["err_msg"]
    return answer["output"]


def undo(omsgid: str, oinfno: str, psn_no: str = SON) -> dict[str, Any]:
    return {"data": {"psn_no": psn_no, "omsgid": omsgid, "oinfno": oinfno}}


def test_a_settlement_whose_answer_was_lost_is_reversed(his: His) -> None:
    values = ids()
    values["<mdtrt_id>"] = send(his, "2201", REGISTER, 1, values)["data"]["mdtrt_id"]
    send(his, "2204", UPLOAD_FIRST, 2, values)
    send(his, "2207", settle_batch(), 3, values)  # the answer never reached the HIS
    assert balance(his, SON) == 726_200
    golden(his, "2601", envelope("2601", undo(f"{MSG}003", "2207"), f"{MSG}004"), values)
    assert balance(his, SON) == 790_000
    assert visit_counts(his.ctx.engine)[3] == ("uploaded", "uploaded")
    send(his, "2601", undo(f"{MSG}003", "2207"), 4, values)  # resent: nothing more happens
    assert balance(his, SON) == 790_000
    again = send(his, "2207", settle_batch(), 5, values)  # the HIS settles afresh
    assert again["setlinfo"]["medfee_sumamt"] == 800
    # An upload and a registration are undone too, in that order.
    send(his, "2601", undo(f"{MSG}005", "2207"), 6, values)
    send(his, "2601", undo(f"{MSG}002", "2204"), 7, values)
    assert visit_counts(his.ctx.engine)[3] == ("revoked", "revoked")
    send(his, "2601", undo(f"{MSG}001", "2201"), 8, values)
    err = refused(his, envelope("2204", UPLOAD_FIRST, f"{MSG}009"), values, "visit_cancelled")
    assert "已撤销" in err


def test_an_inline_pharmacy_settlement_is_reversed(his: His) -> None:
    lost = fill(envelope("2102", PHARMACY_INPUT, MSGID["2102"], PHARMACY), ids())
    assert his.call(lost).json()["infcode"] == 0
    message = envelope(
        "2601", undo(MSGID["2102"], "2102", MOTHER), "P37010000001202603021000000009", PHARMACY
    )
    answer = his.call(fill(message, ids())).json()
    assert answer["infcode"] == 0, answer["err_msg"]


def test_refusals_of_2601(his: His) -> None:
    values = ids()
    values["<mdtrt_id>"] = send(his, "2201", REGISTER, 1, values)["data"]["mdtrt_id"]
    send(his, "2204", UPLOAD_FIRST, 2, values)
    err = refused(his, envelope("2601", undo(f"{MSG}099", "2207"), f"{MSG}010"), values,
                  "fsi_original_not_found")  # fmt: skip
    assert "未找到原交易" in err
    refused(his, envelope("2601", undo(f"{MSG}099", "2204"), f"{MSG}011"), values,
            "fsi_original_not_found")  # fmt: skip
    err = refused(his, envelope("2601", undo(f"{MSG}001", "2204"), f"{MSG}012"), values,
                  "fsi_original_mismatch")  # fmt: skip
    assert "2201" in err
    refused(his, envelope("2601", undo(f"{MSG}001", "2205"), f"{MSG}013"), values,
            "fsi_reversal_unsupported")  # fmt: skip
    refused(his, envelope("2601", undo(f"{MSG}001", "2201"), f"{MSG}014"), values,
            "visit_has_fees")  # fmt: skip
    send(his, "2207", settle_batch(), 3, values)
    refused(his, envelope("2601", undo(f"{MSG}002", "2204"), f"{MSG}015"), values, "fees_settled")
    refused(his, envelope("2601", undo(f"{MSG}003", "2304"), f"{MSG}016"), values,
            "fsi_med_type_mismatch")  # fmt: skip
    for name in ("omsgid", "oinfno"):
        data = {k: v for k, v in undo(f"{MSG}003", "2207")["data"].items() if k != name}
        err = refused(his, envelope("2601", {"data": data}, f"{MSG}02{len(name)}"), values,
                      "fsi_field_missing")  # fmt: skip
        assert name in err
