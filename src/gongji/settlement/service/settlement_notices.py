"""After a settlement: the contributors whose grants or authorizations paid are told how much,
where and for whom (docs/rules.md §15), in the settlement's own unit of work — a refused
settlement tells no one, a replayed one tells no one twice."""

from __future__ import annotations

from gongji.kernel.context import Context
from gongji.mutual_aid.service import notices
from gongji.settlement.service.settlement_quote import Quote
from gongji.store.uow import UnitOfWork


def tell_contributors(ctx: Context, uow: UnitOfWork, setl_id: str, planned: Quote) -> None:
    spent: dict[tuple[str, str], int] = {}
    for draw in planned.draws:
        if draw.kind != "own":
            key = (draw.kind, draw.contributor)
            spent[key] = spent.get(key, 0) + draw.amount_fen
    if spent:
        name = planned.institution.institution.name
        patient = planned.patient_name_masked  # read while quoting, in this transaction
        notices.shared_money_spent(ctx, uow, setl_id, patient, name, spent)
