"""Pre-settlement rule checks of a bill (national 3101 事前分析 / 3102 事中分析), over the
catalogue and, at settlement time, the visit's own lines; the rules are
:mod:`gongji.settlement.domain.prescreen`. Reads only."""

from __future__ import annotations

from collections.abc import Sequence

from gongji.settlement.domain import prescreen
from gongji.settlement.domain.prescreen import Order, Violation
from gongji.settlement.domain.visits import LineState, VisitNotFound
from gongji.settlement.store import catalogue_repo, visits_repo
from gongji.store.uow import UnitOfWork


def analyse(
    uow: UnitOfWork,
    institution: str,
    psn_no: str,
    orders: Sequence[Order],
    visit_id: str | None = None,
) -> list[Violation]:
    """The findings of a bill. With ``visit_id`` (3102, at settlement) the visit must be this
    institution's and the person's, and a line whose ``rx_id`` is a ``feedetl_sn`` the visit
    already settled is found again (重复收费)."""
    items = catalogue_repo.items_by_code(uow.connection, {order.item_code for order in orders})
    settled: set[str] = set()
    if visit_id is not None:
        visit = visits_repo.visit(uow.connection, institution, visit_id)
        if visit is None or visit.psn_no != psn_no:
            raise VisitNotFound(mdtrt_id=visit_id)
        lines = visits_repo.lines(uow.connection, institution, visit_id)
        settled = {line.feedetl_sn for line in lines if line.state == LineState.SETTLED}
    return prescreen.analyse(orders, items, settled)
