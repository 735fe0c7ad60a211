"""A hospital, a pharmacy, a family and a signed HIS client, for national-interface and
reconciliation tests through HTTP; and the bills of the golden files, with their arithmetic."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from gongji.core.clock import ManualClock
from gongji.identity.service.signing import sign_request
from gongji.institutions.service import institutions
from gongji.kernel.context import Context
from gongji.mutual_aid.service.accounts import personal_account_view
from gongji.settlement.service import catalogue
from gongji.store.tables import ledger_transfers
from gongji.store.tables_settlements import settlements
from support.desk import HOSPITAL, PHARMACY, open_desks
from support.world import ELDER, IDS, at, build_context, give, insured, relate, run

FSI_PATH = "/fsi/api/rsfComIfsService/callService"
SON, MOTHER, WIFE = "P620100000001", "P370100000001", "P620100000002"
DESK_REGIONS = {HOSPITAL: "620100", PHARMACY: "370100"}
DESK_NAMES = {HOSPITAL: "兰州测试医院", PHARMACY: "济南测试药房"}

# A class B item with a price ceiling (80.00) and 10 % first self-pay, beside desk.TEST_CATALOGUE.
EXTRA_CATALOGUE = """\
code,name,item_class,selfpay_prop,price_ceiling,account_payable,category,in_catalogue
TX,测试乙类限价药品,B,0.10,80.00,1,drug,1
"""


@dataclass
class His:
    """A signed client for both desks, over the real app."""

    ctx: Context
    clock: ManualClock
    client: TestClient
    keys: dict[str, institutions.IssuedCredentials]
    nonces: list[int] = field(default_factory=lambda: [0])

    def signed(self, path: str, body: bytes, institution: str) -> dict[str, str]:
        self.nonces[0] += 1
        key = self.keys[institution]
        timestamp = int(self.clock.now().timestamp())
        nonce = f"nonce-{self.nonces[0]:012d}"
        return sign_request(key.key_id, key.secret, "POST", path, body, timestamp, nonce)

    def post_raw(
        self, body: bytes, institution: str = HOSPITAL, path: str = FSI_PATH, **headers: str
    ) -> Any:
        sent = {**self.signed(path, body, institution), "Content-Type": "application/json"}
        return self.client.post(path, content=body, headers={**sent, **headers})

    def call(self, message: dict[str, Any], path: str = FSI_PATH) -> Any:
        """Send an envelope signed by the institution it names; the HTTP response."""
        body = json.dumps(message, ensure_ascii=False).encode()
        return self.post_raw(body, message.get("fixmedins_code") or HOSPITAL, path)


def build_his(engine: Engine, tmp_path: Path) -> His:
    from support.api import make_client

    clock = ManualClock(at("2026-03-02 10:00:00"))
    ctx = build_context(engine, clock)
    open_desks(ctx)
    result = run(ctx, lambda uow: catalogue.import_catalogue(ctx, uow, EXTRA_CATALOGUE))
    assert result.ok, result.errors
    insured(ctx, SON, current=180_000, earlier=620_000, name="张建国")
    insured(ctx, MOTHER, region="370100", insutype="390", name="王桂兰", born=ELDER)
    insured(ctx, WIFE, current=5_000, name="李秀英")
    relate(ctx, SON, MOTHER, "parent")
    give(ctx, SON, MOTHER, 10_000)  # she accepts it choosing it to pay (docs/rules.md §6.2)
    keys = {
        code: run(ctx, lambda uow, code=code: institutions.issue_credentials(ctx, uow, code))
        for code in (HOSPITAL, PHARMACY)
    }
    return His(ctx, clock, make_client(ctx, clock, tmp_path), keys)


def envelope(
    infno: str, input_: dict[str, Any], msgid: str, institution: str = HOSPITAL
) -> dict[str, Any]:
    """A message as a HIS fills it in (empty strings where the platform allows them)."""
    return {
        "infno": infno,
        "msgid": msgid,
        "mdtrtarea_admvs": DESK_REGIONS[institution],
        "insuplc_admdvs": "",
        "recer_sys_code": "HIS",
        "dev_no": "",
        "dev_safe_info": "",
        "cainfo": "",
        "signtype": "",
        "infver": "V1.0",
        "opter_type": "1",
        "opter": "D0001",
        "opter_name": "李医生",
        "inf_time": "2026-03-02 10:00:00",
        "fixmedins_code": institution,
        "fixmedins_name": DESK_NAMES[institution],
        "sign_no": "",
        "input": input_,
    }


def fill(template: Any, values: dict[str, str]) -> Any:
    """Replace ``<name>`` placeholders (a setl_id, an ID number) anywhere in a message."""
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, values) for value in template]
    if isinstance(template, str) and template.startswith("<") and template in values:
        return values[template]
    return template


def id_number(psn_no: str) -> str:
    return IDS[psn_no][0]


_SETL_ID = re.compile(r"S[0-9a-f]{23}")
_MDTRT_ID = re.compile(r"M[0-9a-f]{23}")  # a visit's id, as 2201 / 2401 answer it
_REFMSGID = re.compile(r"[0-9]{6}[0-9]{14}[0-9]{10}")
_CERTNO = re.compile(r"[0-9]{6}\*{8}[0-9]{3}[0-9X]")
_SIGN_NO = re.compile(r"([A-Z][0-9]{11}[0-9]{14})([0-9]{4})")


def decimal_json(response: Any) -> Any:
    """An answer read as a HIS should: amounts as decimals, never binary floats."""
    return json.loads(response.text, parse_float=Decimal)


def normalise(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer with what varies between runs replaced: the reply id's random sequence,
    settlement ids (numbered by first appearance), masked ID numbers and the sex they encode
    (the test world's ID numbers depend on test order), a sign number's random digits."""
    assert _REFMSGID.fullmatch(answer["inf_refmsgid"]), answer["inf_refmsgid"]
    seen: dict[str, str] = {}

    def walk(node: Any, key: str = "") -> Any:
        if isinstance(node, dict):
            if "gend" in node and "certno" in node:
                # Sex is the ID number's 17th digit: odd for men (GB 11643).
                assert node["gend"] == ("1" if int(node["certno"][16]) % 2 else "2")
                node = {**node, "gend": "<gend>"}
            return {k: walk(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str) and _SETL_ID.fullmatch(node):
            return seen.setdefault(node, f"<setl_id:{len(seen) + 1}>")
        if isinstance(node, str) and _MDTRT_ID.fullmatch(node):
            return "<mdtrt_id>"
        if key == "certno" and isinstance(node, str):
            assert _CERTNO.fullmatch(node), node
            return "<certno>"
        if key == "sign_no" and isinstance(node, str):
            found = _SIGN_NO.fullmatch(node)
            assert found, node
            return f"{found.group(1)}<random>"
        return node

    out: dict[str, Any] = walk(answer)
    out["inf_refmsgid"] = answer["inf_refmsgid"][:20] + "<sequence>"
    return out


def counts(engine: Engine) -> tuple[int, int]:
    """(settlement rows, ledger transfers): what a refused message must not change."""
    with engine.connect() as connection:
        return (
            connection.execute(select(func.count()).select_from(settlements)).scalar_one(),
            connection.execute(select(func.count()).select_from(ledger_transfers)).scalar_one(),
        )


# --- the bills of the golden files, worked by hand -----------------------------------------------

# The mother (resident 390, Jinan) at the Jinan pharmacy: 2 × 15.50 class A + 1 × 20.00 class C.
# 390 × 41: no deductible, ratio 50 %. In scope 31.00 → fund 15.50; class C 20.00 is full
# self-pay (cash only). Her burden 35.50: 15.50 from her son's grant (acct_mulaid_pay, inside
# acct_pay), 20.00 cash. She has no account of her own: balc 0.00. Amounts as JSON numbers.
PHARMACY_INPUT = {
    "data": {
        "psn_no": MOTHER,
        "mdtrt_cert_type": "02",
        "mdtrt_cert_no": "<mother_id>",
        "psn_name": "王桂兰",
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
        "psn_name": "张建国",
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
        "mdtrt_cert_type": "02",
        "mdtrt_cert_no": "<son_id>",
        "psn_name": "张建国",
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
