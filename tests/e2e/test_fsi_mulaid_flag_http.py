"""``exp_content.mulaid_flag`` on the national interface, through HTTP on both databases: the
patient's choice of family mutual aid for one bill overrides her standing choice either way
(docs/rules.md §6.2); without the flag the standing choice decides."""

from __future__ import annotations

from typing import Any

from test_fsi_patient_identity import call, his, with_data

from support.fsi import MOTHER, PHARMACY_INPUT, His, ids
from support.world import choose_mutual_aid

__all__ = ["his"]  # the fixture, shared with the patient-identity tests


def _family_part(his: His, n: int, **exp_content: str) -> Any:
    extra = {"exp_content": exp_content} if exp_content else {}
    input_ = with_data(PHARMACY_INPUT, **extra)
    return call(his, "2101", input_, n, ids()).json()["output"]["setlinfo"]["acct_mulaid_pay"]


def test_mulaid_flag_overrides_the_standing_choice_for_one_bill(his: His) -> None:
    chosen = _family_part(his, 1)  # she accepted her son's quota choosing it
    assert chosen > 0
    assert _family_part(his, 2, mulaid_flag="0") == 0
    choose_mutual_aid(his.ctx, MOTHER, on=False)
    assert _family_part(his, 3) == 0
    assert _family_part(his, 4, mulaid_flag="1") == chosen
