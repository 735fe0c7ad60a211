"""The national interface through HTTP, message by message, on both databases.

Each transaction has a golden file in tests/data/fsi/: the full request as a HIS sends it and
the full answer, with what varies between runs normalised (the reply id's random sequence,
settlement ids, masked ID numbers). The clock is fixed, so times are compared as they are.
Answers are read as a HIS should read them, amounts as decimals (``parse_float=Decimal``);
the files keep them as the wire has them, numbers with two decimals (compared by value; the
digits themselves are checked on the wire by ``test_amounts_are_numbers_with_two_decimals``).
``GONGJI_UPDATE_GOLDEN=1`` rewrites the files; read the diff before committing it: the numbers
in them are the worked examples of the bills, checked by hand.

The bills and their arithmetic are in tests/support/fsi.py; refusals in test_fsi_refusals.py.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from gongji.store.tables_settlements import AMOUNT_COLUMNS
from support.desk import PHARMACY
from support.fsi import (
    INPATIENT_INPUT,
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
    normalise,
)

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
    answer = decimal_json(response)
    assert answer["infcode"] == 0, answer["err_msg"]
    recorded = {"request": message, "response": normalise(answer)}
    path = GOLDEN / f"{name}.json"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_as_golden(recorded) + "\n", "utf-8")
    assert recorded == json.loads(path.read_text("utf-8"), parse_float=Decimal)
    return answer["output"]


def _as_golden(recorded: Any) -> str:
    """Indented JSON with the amounts written as on the wire: numbers with two decimals."""
    marked = json.dumps(recorded, ensure_ascii=False, indent=2, default=lambda d: f"@@{d}@@")
    return re.sub(r'"@@(-?[0-9.]+)@@"', r"\1", marked)


# --- golden messages ------------------------------------------------------------------------


def test_1101_person_info_by_id_card(his: His) -> None:
    message = envelope(
        "1101",
        {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "<son_id>", "psn_name": "张建国"}},
        "H62010000001202603021000000000",
    )
    output = golden(his, "1101", message, ids())
    assert output["baseinfo"]["psn_no"] == SON
    assert output["insuinfo"][0]["balc"] == Decimal("7900.00")  # 8 000.00 less his grant


def test_2101_2102_2103_pharmacy_with_a_grant(his: His) -> None:
    quoted = golden(his, "2101", envelope("2101", PHARMACY_INPUT, MSGID["2101"], PHARMACY), ids())
    assert quoted["setlinfo"]["acct_mulaid_pay"] == Decimal("15.50")
    assert counts(his.ctx.engine)[0] == 0  # pre-settle writes nothing
    settled = golden(his, "2102", envelope("2102", PHARMACY_INPUT, MSGID["2102"], PHARMACY), ids())
    assert {k: settled["setlinfo"][k] for k in ("acct_pay", "acct_mulaid_pay", "psn_cash_pay")} == {
        "acct_pay": Decimal("15.50"),
        "acct_mulaid_pay": Decimal("15.50"),
        "psn_cash_pay": Decimal("20.00"),
    }
    reverse = {"data": {"setl_id": "<setl_id>", "psn_no": MOTHER}}
    reversed_ = golden(
        his,
        "2103",
        envelope("2103", reverse, MSGID["2103"], PHARMACY),
        {"<setl_id>": settled["setlinfo"]["setl_id"]},
    )
    assert reversed_["setlinfo"]["acct_mulaid_pay"] == Decimal("-15.50")
    assert reversed_["setlinfo"]["init_setl_id"] == settled["setlinfo"]["setl_id"]


def test_2206_2207_2208_outpatient_own_account(his: His) -> None:
    quoted = golden(his, "2206", envelope("2206", OUTPATIENT_INPUT, MSGID["2206"]), ids())
    assert quoted["setlinfo"]["balc"] == Decimal("7262.00")
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
    golden(his, "2303", envelope("2303", INPATIENT_INPUT, MSGID["2303"]), ids())
    settled = golden(his, "2304", envelope("2304", INPATIENT_INPUT, MSGID["2304"]), ids())
    assert balance(his, SON) == 660_000
    reverse = {"data": {"setl_id": "<setl_id>", "mdtrt_id": "ZY20260302001", "psn_no": SON}}
    golden(
        his,
        "2305",
        envelope("2305", reverse, MSGID["2305"]),
        {"<setl_id>": settled["setlinfo"]["setl_id"]},
    )
    assert balance(his, SON) == 790_000


def test_9001_9002_sign_in_and_out(his: His) -> None:
    before = counts(his.ctx.engine)
    sign_in = {"signIn": {"opter_no": "D0001", "mac": "00:1A:2B:3C:4D:5E", "ip": "10.62.1.23"}}
    signed_in = golden(his, "9001", envelope("9001", sign_in, "H62010000001202603021000000020"))
    sign_no = signed_in["signinoutb"]["sign_no"]
    assert len(sign_no) == 30 and sign_no.startswith("H6201000000120260302100000")
    sign_out = {"signOut": {"sign_no": "<sign_no>", "opter_no": "D0001"}}
    golden(
        his,
        "9002",
        envelope("9002", sign_out, "H62010000001202603021000000021"),
        {"<sign_no>": sign_no},
    )
    assert counts(his.ctx.engine) == before  # gongji keeps no sessions


def test_3201_totals_balanced_and_not(his: His) -> None:
    # The hospital settles the outpatient bill, then the inpatient one, and reconciles the day
    # for insutype 310. Outpatient and inpatient care keep their own deductibles (benefit pools):
    # the stay pays its full 1 000.00 deductible and the fund 2 000.00 × 85 % = 1 700.00, as if
    # alone. Totals: 3 800.00; fund 122.00 + 1 700.00 = 1 822.00; accounts 638.00 + 1 300.00 =
    # 1 938.00.
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
        "fund_pay_sumamt": "1822.00",
        "acct_pay": "1938.00",
        "fixmedins_setl_cnt": "2",
    }
    balanced = golden(
        his, "3201", envelope("3201", {"data": totals}, "H62010000001202603021000000007")
    )
    assert balanced["stmtinfo"]["stmt_rslt"] == "0"
    # The HIS missed a refund of 12.00 paid from the account and counts one bill too many.
    wrong = {**totals, "medfee_sumamt": 3812.0, "acct_pay": 1950.0, "fixmedins_setl_cnt": 3}
    unbalanced = golden(
        his, "3201_unbalanced", envelope("3201", {"data": wrong}, "H62010000001202603021000000008")
    )
    assert unbalanced["stmtinfo"]["stmt_rslt"] == "1"
    assert unbalanced["diff"] == {
        "fixmedins_setl_cnt": 1,
        "medfee_sumamt": Decimal("12.00"),
        "fund_pay_sumamt": Decimal("0.00"),
        "acct_pay": Decimal("12.00"),
    }


AMOUNTS = (*AMOUNT_COLUMNS, "fund_payamt")  # a settlement's, and the fund's share


def test_amounts_are_numbers_with_two_decimals(his: His) -> None:
    """As the platform writes them (numbers, so a strictly typed HIS client reads them), with
    the second decimal kept: ``15.50``, ``20.00``, ``0.00``."""
    message = fill(envelope("2102", PHARMACY_INPUT, MSGID["2102"], PHARMACY), ids())
    text = his.call(message).text

    written = dict(re.findall(r'"(\w+)":(-?\d+\.\d+|"[^"]*")', text))

    assert {name: written.get(name) for name in AMOUNTS} == {
        "medfee_sumamt": "51.00",
        "fulamt_ownpay_amt": "20.00",
        "overlmt_selfpay": "0.00",
        "preselfpay_amt": "0.00",
        "inscp_scp_amt": "31.00",
        "act_pay_dedc": "0.00",
        "hifp_pay": "15.50",
        "fund_pay_sumamt": "15.50",
        "hosp_part_amt": "0.00",
        "psn_part_amt": "35.50",
        "acct_pay": "15.50",
        "acct_mulaid_pay": "15.50",
        "psn_cash_pay": "20.00",
        "balc": "0.00",
        "fund_payamt": "15.50",
    }
