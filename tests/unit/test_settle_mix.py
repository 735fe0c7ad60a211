"""The settle bench's bills: the promised mix, and bills each desk may settle."""

from __future__ import annotations

import random
from collections import Counter

from gongji.core.money import parse_yuan
from gongji.institutions.domain.institutions import InstitutionKind, check_med_type
from gongji.sim.settle_mix import draw_bill
from gongji.sim.settle_world import INSTITUTIONS, Key, World

WORLD = World(
    keys=tuple(Key(i.code, i.kind, f"{i.code}.k", "secret") for i in INSTITUTIONS),
    employees=tuple(f"E{n}" for n in range(50)),
    parents=tuple(f"R{n}" for n in range(50)),
    vouchers={f"{kind}{n}": f"voucher-of-{kind}{n}" for kind in "ER" for n in range(50)},
)


def test_mix_is_70_25_5_with_a_third_shared() -> None:
    rng = random.Random(7)
    bills = [draw_bill(rng, WORLD) for _ in range(20_000)]
    shares = Counter(bill.med_type for bill in bills)
    assert abs(shares["41"] / len(bills) - 0.70) < 0.015
    assert abs(shares["11"] / len(bills) - 0.25) < 0.015
    assert abs(shares["21"] / len(bills) - 0.05) < 0.006
    shared = [bill for bill in bills if bill.shared]
    assert abs(len(shared) / len(bills) - 1 / 3) < 0.015
    assert all(bill.psn_no in WORLD.parents for bill in shared)
    assert all(bill.psn_no in WORLD.employees for bill in bills if not bill.shared)


def test_every_bill_goes_to_a_desk_that_may_settle_it_and_has_money_lines() -> None:
    rng = random.Random(8)
    for _ in range(2_000):
        bill = draw_bill(rng, WORLD)
        check_med_type(WORLD.keys[bill.key_index].kind, bill.med_type)  # raises if not allowed
        assert bill.lines and all(qty >= 1 and price > 0 for _, qty, price in bill.lines)
        if bill.med_type == "41":
            assert WORLD.keys[bill.key_index].kind is InstitutionKind.PHARMACY


def test_http_body_carries_yuan_strings_the_request_id_and_the_patients_voucher() -> None:
    bill = draw_bill(random.Random(9), WORLD)
    body = bill.body("req-1")
    assert body["request_id"] == "req-1" and "psn_no" not in body  # never a bare psn_no
    assert (body["mdtrt_cert_type"], body["mdtrt_cert_no"]) == ("01", f"voucher-of-{bill.psn_no}")
    lines = body["lines"]
    assert isinstance(lines, list)
    for sent, (code, qty, price) in zip(lines, bill.lines, strict=True):
        assert (sent["item_code"], sent["quantity"]) == (code, str(qty))
        assert parse_yuan(sent["unit_price"]) == price and sent["unit_price"].count(".") == 1
