"""Which write-time alerts held a grant (``risk.service.held_grants.held_this``), the link the
risk officer's held-grants page shows: an alert naming the grant; or one naming only
relationships (kinship), about a party, raised by the offer itself — and the nearest cases that
are not."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gongji.risk.domain.alerts import Evidence
from gongji.risk.service.held_grants import SAME_WRITE_US, held_this
from gongji.risk.store.alerts_repo import AlertRow
from gongji.store.records import GrantRecord

OFFERED_US = 1_772_416_800_000_000
GRANT = GrantRecord(
    id="G1", relationship_id="R1", contributor="P1", recipient="P2", contributor_region="620100",
    amount_fen=20_000, from_current_fen=0, from_earlier_fen=20_000, state="held",
    business_date="2026-03-02", offered_at_us=OFFERED_US, expires_at_us=OFFERED_US,
    accepted_at_us=None, closed_at_us=None, close_reason=None,
)  # fmt: skip
ALERT = AlertRow(
    id=7, rule="kinship", rule_version=1, reason="impossible_age", subject_kind="person",
    subject="P1", region="620100", weight=40, evidence=Evidence(relationships=("R1",)),
    source="write", held=True, raised_at_us=OFFERED_US + 150, case_id=None,
)  # fmt: skip


def test_an_alert_naming_the_grant_held_it_whenever_it_was_raised() -> None:
    named = replace(ALERT, subject="P9", evidence=Evidence(grants=("G0", "G1")),
                    raised_at_us=OFFERED_US + 10 * SAME_WRITE_US)  # fmt: skip
    assert held_this(named, GRANT)


def test_an_alert_naming_other_grants_or_settlements_did_not() -> None:
    assert not held_this(replace(ALERT, evidence=Evidence(grants=("G0",))), GRANT)
    assert not held_this(replace(ALERT, evidence=Evidence(settlements=("S1",))), GRANT)


@pytest.mark.parametrize("party", ["P1", "P2"])
def test_a_relationship_alert_on_a_party_raised_by_the_offer_held_it(party: str) -> None:
    assert held_this(replace(ALERT, subject=party), GRANT)


@pytest.mark.parametrize(
    ("subject", "raised_at_us"),
    [
        ("P3", OFFERED_US + 150),  # another person
        ("P1", OFFERED_US - 1),  # before the offer: another write's
        ("P1", OFFERED_US + SAME_WRITE_US),  # a second later: another write's
    ],
)
def test_a_relationship_alert_not_raised_by_the_offer_did_not(
    subject: str, raised_at_us: int
) -> None:
    assert not held_this(replace(ALERT, subject=subject, raised_at_us=raised_at_us), GRANT)
