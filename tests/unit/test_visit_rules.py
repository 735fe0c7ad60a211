"""The visit and fee-line rules (gongji.settlement.domain.visits), without a database."""

from __future__ import annotations

import pytest

from gongji.settlement.domain import visits as rules
from gongji.settlement.domain.settlement_errors import SettlementRequestReused
from gongji.settlement.domain.visits import LineStand, LineState, VisitKind

UP, REV, SET = LineState.UPLOADED, LineState.REVOKED, LineState.SETTLED


def stands(*states: tuple[LineState, str | None]) -> list[LineStand]:
    return [LineStand(str(n), "CF1", state, setl) for n, (state, setl) in enumerate(states)]


def test_a_batch_settles_its_uploaded_lines_only() -> None:
    lines = stands((UP, None), (REV, None), (UP, None))
    assert [s.feedetl_sn for s in rules.to_settle("M", "CF1", lines, "m1", None)] == ["0", "2"]


def test_a_line_settled_elsewhere_refuses_the_settlement() -> None:
    with pytest.raises(rules.FeesSettled):
        rules.to_settle("M", "CF1", stands((UP, None), (SET, "S1")), "m2", None)


def test_a_resent_request_gets_exactly_the_lines_its_settlement_paid() -> None:
    lines = stands((SET, "S1"), (SET, "S1"), (UP, None))
    assert [s.feedetl_sn for s in rules.to_settle("M", "CF1", lines, "m1", "S1")] == ["0", "1"]
    with pytest.raises(SettlementRequestReused):  # its settlement was reversed since
        rules.to_settle("M", "CF1", stands((UP, None)), "m1", "S1")


def test_revoked_or_empty_batches_refuse_with_their_own_codes() -> None:
    with pytest.raises(rules.BatchRevoked):
        rules.to_settle("M", "CF1", stands((REV, None)), "m1", None)
    with pytest.raises(rules.BatchNotFound):
        rules.to_settle("M", "CF1", [], "m1", None)


def test_revocation_and_cancellation() -> None:
    assert [s.feedetl_sn for s in rules.check_revocable(stands((UP, None), (REV, None)))] == ["0"]
    with pytest.raises(rules.FeesSettled):
        rules.check_revocable(stands((UP, None), (SET, "S1")))
    rules.check_cancellable("M", stands((REV, None)))
    with pytest.raises(rules.VisitHasFees):
        rules.check_cancellable("M", stands((REV, None), (UP, None)))


def test_a_visit_of_the_other_kind_or_cancelled_is_refused() -> None:
    rules.check_open("M", "open", "outpatient", VisitKind.OUTPATIENT)
    with pytest.raises(rules.VisitKindMismatch):
        rules.check_open("M", "open", "inpatient", VisitKind.OUTPATIENT)
    with pytest.raises(rules.VisitCancelled):
        rules.check_open("M", "cancelled", "outpatient", VisitKind.OUTPATIENT)
