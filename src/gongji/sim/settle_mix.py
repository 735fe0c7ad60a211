"""The bills ``gongji bench settle`` sends: a realistic mix drawn from a seeded random stream.

70 % pharmacy purchases (41, one to three drugs or devices at a 定点药店), 25 % outpatient
visits (11: the consultation, tests, some drugs) and 5 % inpatient stays (21: bed days,
infusions, a CT, drugs over several days), priced at the demo catalogue's ceilings. One bill in
three is for a grant recipient (shared money, 共济), the others for the employees who gave.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from gongji.core.money import format_yuan
from gongji.institutions.domain.institutions import InstitutionKind
from gongji.settlement.domain.bill import LineIn, SettleRequest
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


@dataclass(frozen=True, slots=True)
class Bill:
    """One settlement to send: which desk, whose, what; ``shared`` when it is a recipient's."""

    key_index: int
    psn_no: str
    med_type: str
    lines: tuple[tuple[str, int, int], ...]  # (item code, quantity, unit price in fen)
    shared: bool

    def request(self, institution_code: str, request_id: str) -> SettleRequest:
        return SettleRequest(
            institution_code=institution_code,
            request_id=request_id,
            psn_no=self.psn_no,
            med_type=self.med_type,
            lines=tuple(LineIn(code, Decimal(qty), price) for code, qty, price in self.lines),
        )

    def body(self, request_id: str) -> dict[str, object]:
        """The POST /api/v1/settlements body (api/settlement_routes.py SettleBody)."""
        return {
            "request_id": request_id,
            "psn_no": self.psn_no,
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
    return Bill(rng.choice(desks), psn_no, med_type, lines, shared)


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
