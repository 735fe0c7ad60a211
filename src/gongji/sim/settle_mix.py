"""The bills ``gongji bench settle`` sends: a realistic mix drawn from a seeded random stream.

70 % pharmacy purchases (41, one to three drugs or devices at a 定点药店), 25 % outpatient
visits (11: the consultation, tests, some drugs) and 5 % inpatient stays (21: bed days,
infusions, a CT, drugs over several days), priced at the demo catalogue's ceilings. One bill in
three is for a grant recipient (shared money, 共济), the others for the employees who gave.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from gongji.core.money import format_yuan
from gongji.identity.service.signing import sign_request
from gongji.institutions.domain.institutions import InstitutionKind
from gongji.settlement.domain.bill import LineIn, SettleRequest
from gongji.sim.settle_load import Outcome
from gongji.sim.settle_world import World

PHARMACY_SHARE: Final = 0.70
OUTPATIENT_SHARE: Final = 0.25  # the rest, 5 %, inpatient
SHARED_SHARE: Final = 1 / 3

# (code, ceiling price in fen) from the shipped demo catalogue (data/catalogue.csv)
DRUGS: Final = (
    ("XJ01CAA040A001010100001", 1_250),
    ("XM01AEB011E001010100002", 1_860),
    ("XA10BAE001A001010100003", 980),
    ("XC08CAN011B001010100004", 3_320),
    ("XC10AAA050A001010100005", 600),
    ("XA02BCA010E001010100006", 1_580),
    ("XJ01DCC020A001010100007", 2_650),
    ("XC09CAV030E001010100008", 3_800),
    ("XA10ABM020B001010100009", 4_500),
    ("ZA01BCL0345010100010", 1_480),
    ("ZC03AAF0028010100011", 2_980),
)
DEVICES: Final = (("C14030200001000000015", 8_500), ("C02040100001000000019", 1_200))
CONSULTATION: Final = ("001101000010000", 1_500)
EXAMINATIONS: Final = (("002501010150000", 2_500), ("002503010040000", 6_000))
BED_DAY: Final = ("001103000010000", 4_000)
INFUSION: Final = ("001204000010000", 800)
CT: Final = ("002103000010000", 26_000)

Line = tuple[str, int]
Post = Callable[[bytes, Mapping[str, str]], Mapping[str, object]]
"""Posts a signed national-interface body; the answer envelope."""


@dataclass(frozen=True, slots=True)
class Bill:
    """One settlement to send: which desk, whose, what; ``shared`` when it is a recipient's."""

    key_index: int
    psn_no: str
    med_type: str
    lines: tuple[tuple[str, int, int], ...]  # (item code, quantity, unit price in fen)
    shared: bool
    voucher: str = ""
    """The patient's e-voucher token: the HTTP body presents it (never a bare psn_no)."""

    def request(self, institution_code: str, request_id: str) -> SettleRequest:
        return SettleRequest(
            institution_code=institution_code,
            request_id=request_id,
            psn_no=self.psn_no,
            med_type=self.med_type,
            lines=tuple(LineIn(code, Decimal(qty), price) for code, qty, price in self.lines),
        )

    def body(self, request_id: str) -> dict[str, object]:
        """The POST /api/v1/settlements body (settlement_routes.py SettleBody): the patient by
        the e-voucher scanned at the counter."""
        return {
            "request_id": request_id,
            "mdtrt_cert_type": "01",
            "mdtrt_cert_no": self.voucher,
            "med_type": self.med_type,
            "acct_used_flag": True,
            "lines": [
                {"item_code": code, "quantity": str(qty), "unit_price": format_yuan(price)}
                for code, qty, price in self.lines
            ],
        }


def draw_bill(rng: random.Random, world: World) -> Bill:
    shared = rng.random() < SHARED_SHARE
    psn_no = rng.choice(world.parents if shared else world.employees)
    roll = rng.random()
    if roll < PHARMACY_SHARE:
        kind, med_type, lines = InstitutionKind.PHARMACY, "41", _pharmacy(rng)
    elif roll < PHARMACY_SHARE + OUTPATIENT_SHARE:
        kind, med_type, lines = InstitutionKind.HOSPITAL, "11", _outpatient(rng)
    else:
        kind, med_type, lines = InstitutionKind.HOSPITAL, "21", _inpatient(rng)
    desks = [n for n, key in enumerate(world.keys) if key.kind is kind]
    voucher = world.vouchers.get(psn_no, "")
    return Bill(rng.choice(desks), psn_no, med_type, lines, shared, voucher)


def _pharmacy(rng: random.Random) -> tuple[tuple[str, int, int], ...]:
    items = rng.sample(DRUGS + DEVICES, rng.randint(1, 3))
    return tuple((code, rng.randint(1, 3), price) for code, price in items)


def _outpatient(rng: random.Random) -> tuple[tuple[str, int, int], ...]:
    lines = [(CONSULTATION[0], 1, CONSULTATION[1])]
    lines += [(code, 1, price) for code, price in rng.sample(EXAMINATIONS, rng.randint(0, 2))]
    lines += [(code, rng.randint(1, 2), price) for code, price in rng.sample(DRUGS, 2)]
    return tuple(lines)


def _inpatient(rng: random.Random) -> tuple[tuple[str, int, int], ...]:
    days = rng.randint(3, 10)
    lines = [
        (BED_DAY[0], days, BED_DAY[1]),
        (INFUSION[0], 2 * days, INFUSION[1]),
        (CT[0], 1, CT[1]),
    ]
    lines += [(code, 1, price) for code, price in EXAMINATIONS]
    lines += [(code, rng.randint(2, 6), price) for code, price in rng.sample(DRUGS, 3)]
    return tuple(lines)


# --- the outpatient-visit mix: a hospital's HIS on the national interface -----------------------

FSI_PATH: Final = "/fsi/api/rsfComIfsService/callService"
VISIT_MIX: Final = "outpatient visits over the national interface: 2201 → 2204 → 2207 by batch"


@dataclass(frozen=True, slots=True)
class Visit:
    """One outpatient visit to send as three messages; ``shared`` when it is a recipient's."""

    key_index: int
    psn_no: str
    lines: tuple[tuple[str, int, int], ...]
    shared: bool


def draw_visit(rng: random.Random, world: World) -> Visit:
    shared = rng.random() < SHARED_SHARE
    psn_no = rng.choice(world.parents if shared else world.employees)
    desks = [n for n, key in enumerate(world.keys) if key.kind is InstitutionKind.HOSPITAL]
    return Visit(rng.choice(desks), psn_no, _outpatient(rng), shared)


def visit_envelope(
    institution_code: str, infno: str, msgid: str, input_: dict[str, object]
) -> dict[str, object]:
    """A message as a HIS fills it in; the place of treatment from the institution code."""
    return {
        "infno": infno, "msgid": msgid, "mdtrtarea_admvs": institution_code[1:7],
        "insuplc_admdvs": "", "recer_sys_code": "HIS", "infver": "V1.0", "opter_type": "1",
        "opter": "B0001", "opter_name": "bench", "inf_time": "2026-01-01 00:00:00",
        "fixmedins_code": institution_code, "fixmedins_name": "bench", "input": input_,
    }  # fmt: skip


def visit_inputs(visit: Visit, number: str, voucher: str) -> tuple[dict[str, object], ...]:
    """The inputs of 2201 (on the patient's e-voucher ``voucher``) and 2204; 2207's needs the
    ``mdtrt_id`` 2201 answers (:func:`settle_input`)."""
    register: dict[str, object] = {"data": {"psn_no": visit.psn_no, "mdtrt_cert_type": "01",
                         "mdtrt_cert_no": voucher, "ipt_otp_no": f"MZ{number}",
                         "begntime": "2026-01-01 00:00:00"}}  # fmt: skip
    lines = [
        {"feedetl_sn": str(n), "mdtrt_id": "<mdtrt_id>", "psn_no": visit.psn_no,
         "chrg_bchno": f"CF{number}", "med_list_codg": code, "cnt": qty,
         "pric": format_yuan(price)}
        for n, (code, qty, price) in enumerate(visit.lines, start=1)
    ]  # fmt: skip
    return register, {"feedetail": lines}


def send_visit(post: Post, world: World, visit: Visit, number: str) -> Outcome:
    """2201, 2204, 2207 of one visit, each signed and posted; the first refusal ends the visit."""
    steps = visit_steps(world, visit, number)
    try:
        message = next(steps)
        while True:
            message = steps.send(post(*message))
    except StopIteration as done:
        outcome: Outcome = done.value
        return outcome


VisitSteps = Generator[tuple[bytes, dict[str, str]], Any, Outcome]
"""Yields each message of a visit, signed (body and headers), and is sent its decoded answer;
returns the visit's outcome."""


def visit_steps(world: World, visit: Visit, number: str) -> VisitSteps:
    """The messages of :func:`send_visit`, for a caller that sends them its own way."""
    key = world.keys[visit.key_index]
    register, upload = visit_inputs(visit, number, world.vouchers.get(visit.psn_no, ""))
    mdtrt_id = ""
    for infno, input_ in (("2201", register), ("2204", upload), ("2207", None)):
        if input_ is None:
            input_ = settle_input(visit, number, mdtrt_id)
        elif infno == "2204":
            input_ = json.loads(json.dumps(input_).replace("<mdtrt_id>", mdtrt_id))
        message = visit_envelope(key.institution_code, infno, f"{number}{infno}", input_)
        body = json.dumps(message, ensure_ascii=False).encode()
        headers = sign_request(
            key.key_id, key.secret, "POST", FSI_PATH, body, int(time.time()), uuid.uuid4().hex
        )
        answer: Any = yield body, {**headers, "Content-Type": "application/json"}
        if answer.get("infcode") != 0:
            return Outcome(f"fsi {infno}: {answer.get('err_msg')}"[:80])
        if infno == "2201":
            mdtrt_id = str(answer["output"]["data"]["mdtrt_id"])
    return Outcome(None, answer["output"]["setlinfo"]["acct_mulaid_pay"] != 0)


def settle_input(visit: Visit, number: str, mdtrt_id: str) -> dict[str, object]:
    total = sum(qty * price for _, qty, price in visit.lines)
    return {"data": {"psn_no": visit.psn_no, "med_type": "11", "mdtrt_id": mdtrt_id,
                     "chrg_bchno": f"CF{number}", "medfee_sumamt": format_yuan(total),
                     "acct_used_flag": "1"}}  # fmt: skip
