"""A person's story as the operator API answers it: yuan as strings, times in business time,
personal data masked; each amount names the settlement or grant it came from (``setl_id``,
``grant_id``), which the operator API and pages link to.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from gongji.backoffice.service.person_story import (
    AuthorizationLine,
    GrantLine,
    PersonStory,
    SettlementLine,
    Spend,
)
from gongji.core.clock import from_us
from gongji.core.money import format_yuan
from gongji.kernel.context import BUSINESS_TZ

Json = dict[str, Any]


def when(at_us: int | None) -> str | None:
    return None if at_us is None else from_us(at_us).astimezone(BUSINESS_TZ).isoformat()


def yuan(fen: int | None) -> str | None:
    return None if fen is None else format_yuan(fen)


def story_json(story: PersonStory) -> Json:
    person = story.person
    return {
        "psn_no": person.psn_no,
        "name": person.name_masked,
        "id_number": person.id_masked,
        "mobile": person.mobile_masked,
        "sex": person.sex,
        "death_date": person.death_date,
        "enrolments": [asdict(e) for e in story.enrolments],
        "account": _account(story),
        "wallet": _wallet(story),
        "relationships": [
            {
                "id": line.record.id,
                "direction": "proposed" if line.proposed_by_me else "proposed_by",
                "other": line.other,
                "other_name": line.other_name_masked,
                "kind": line.record.kind,
                "status": line.record.status,
                "verification": line.record.verification,
                "created_at": when(line.record.created_at_us),
                "updated_at": when(line.record.updated_at_us),
                "end_reason": line.record.end_reason,
            }
            for line in story.relationships
        ],
        "grants_given": [_grant(g) for g in story.grants_given],
        "grants_received": [_grant(g) for g in story.grants_received],
        "authorizations": [_authorization(a) for a in story.authorizations],
        "settlements": [_settlement(s) for s in story.settlements],
        "premiums": [_premium(p) for p in story.premiums],
        "freezes": [_event(e) for e in story.freezes],
        "inheritance": _inheritance(story),
        "events": [_event(e) for e in story.events],
    }


def _wallet(story: PersonStory) -> Json | None:
    wallet = story.wallet
    if wallet is None:
        return None
    return {
        "status": wallet.status,
        "place_of_use": wallet.place_of_use,
        "opened_by": wallet.opened_by,
        "opened_at": when(wallet.opened_at_us),
        "status_reason": wallet.status_reason,
    }


def _account(story: PersonStory) -> Json | None:
    account = story.account
    if account is None:
        return None
    return {
        "region": account.region,
        "this_year": yuan(account.current_fen),
        "earlier_years": yuan(account.earlier_fen),
        "earmarked": yuan(account.earmarked_fen),
        "available": yuan(account.available_fen),
        "awaiting_heirs": story.deceased and story.inheritance is None,
    }


def _spend(spend: Spend) -> Json:
    return {
        "setl_id": spend.setl_id,
        "date": spend.business_date,
        "amount": yuan(spend.amount_fen),
        "reversed": spend.reversed,
    }


def _grant(line: GrantLine) -> Json:
    g = line.grant
    return {
        "grant_id": g.id,
        "other": line.other,
        "other_name": line.other_name_masked,
        "amount": yuan(g.amount_fen),
        "from_this_year": yuan(g.from_current_fen),
        "from_earlier_years": yuan(g.from_earlier_fen),
        "state": g.state,
        "date": g.business_date,
        "offered_at": when(g.offered_at_us),
        "accepted_at": when(g.accepted_at_us),
        "closed_at": when(g.closed_at_us),
        "close_reason": g.close_reason,
        "spent": yuan(line.spent_fen),
        "spent_on": [_spend(s) for s in line.spent],
    }


def _authorization(line: AuthorizationLine) -> Json:
    a = line.record
    return {
        "authorization_id": a.id,
        "contributor": a.contributor,
        "recipient": a.recipient,
        "other_name": line.other_name_masked,
        "quota": yuan(a.quota_fen),
        "used": yuan(a.used_fen),
        "status": a.status,
        "created_at": when(a.created_at_us),
        "ended_at": when(a.ended_at_us),
        "spent_on": [_spend(s) for s in line.spent],
    }


def _settlement(line: SettlementLine) -> Json:
    row = line.row
    return {
        "setl_id": row.setl_id,
        "kind": row.kind,
        "reverses": row.reverses,
        "reversed": line.reversed,
        "institution_code": row.institution_code,
        "date": row.business_date,
        "med_type": row.med_type,
        "total": yuan(row.medfee_sumamt),
        "fund_paid": yuan(row.fund_pay_sumamt),
        "own_account_paid": yuan(row.acct_pay),
        "shared_paid": yuan(row.acct_mulaid_pay),
        "cash_paid": yuan(row.psn_cash_pay),
        "paid_by": [
            {
                "kind": d.kind,
                "source_id": d.source_id,
                "contributor": d.contributor,
                "amount": yuan(d.amount_fen),
            }
            for d in line.draws
        ],
    }


def _premium(row: Any) -> Json:
    return {
        "psn_no": row.psn_no,
        "payer": row.payer,
        "year": row.year,
        "kind": row.kind,
        "source": row.source,
        "amount": yuan(row.amount_fen),
        "paid_at": when(row.paid_at_us),
    }


def _inheritance(story: PersonStory) -> Json | None:
    paid = story.inheritance
    if paid is None:
        return None
    heirs = [
        {
            "name": h.get("name"),
            "id": h.get("id"),
            "share": yuan(h.get("share_fen")),
        }
        for h in paid.heirs
    ]
    return {
        "death_certificate_no": paid.death_certificate_no,
        "paid": yuan(paid.amount_fen),
        "paid_at": when(paid.paid_at_us),
        "operator": paid.operator,
        "heirs": heirs,
    }


def _event(event: Any) -> Json:
    return {
        "seq": event.seq,
        "kind": event.kind,
        "at": when(event.at_us),
        "actor": event.actor,
        "detail": event.detail,
    }
