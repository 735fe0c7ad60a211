"""Wallets (医保钱包, docs/rules.md §4): open (self or on behalf of a relative), place of use,
freeze and unfreeze by an operator, close.

The wallet holds no money: it is the person's switch for taking part in mutual aid. Every change
is recorded as a person event, so the history shows who did what and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from gongji.core.enrolment import EnrolmentStatus, WalletStatus
from gongji.core.errors import GongjiError
from gongji.core.ids import parse_resident_id
from gongji.kernel.context import Actor, ActorKind, Context, Role
from gongji.kernel.errors import Forbidden, NotFound, RegionUnknown
from gongji.mutual_aid.domain import wallet_errors
from gongji.mutual_aid.domain.grant_errors import EnrolmentNotActive, PersonSuspended
from gongji.mutual_aid.service import notices
from gongji.mutual_aid.store import mutual_aid_repo as aid_repo
from gongji.people.domain.kinship import Kinship
from gongji.people.service import registry
from gongji.people.service.persons import governing_enrolment, require_person
from gongji.store.records import WalletRecord
from gongji.store.rows import WalletRow
from gongji.store.uow import UnitOfWork

REASON_LENGTH_MAX = 200
FREEZERS = frozenset({Role.ADMIN, Role.RISK_OFFICER})
_KINDS = tuple(kind.value for kind in Kinship)


@dataclass(frozen=True, slots=True)
class OpenRequest:
    place_of_use: str
    on_behalf_of_id_number: str | None = None
    on_behalf_of_name: str | None = None


def open_wallet(ctx: Context, uow: UnitOfWork, actor: Actor, request: OpenRequest) -> WalletRecord:
    """Open the actor's own wallet, or a relative's (代开通) identified by ID number and name."""
    _require_person_actor(actor)
    holder = _holder(ctx, uow, actor, request)
    _check_can_open(uow, holder)
    _check_region(ctx, request.place_of_use)
    connection = uow.connection
    existing = aid_repo.wallet(connection, holder, lock=True)
    now_us = ctx.now_us()
    if existing is not None and existing.status != WalletStatus.CLOSED:
        raise wallet_errors.WalletAlreadyOpen()
    opened: WalletRow = {
        "psn_no": holder,
        "status": WalletStatus.OPEN.value,
        "place_of_use": request.place_of_use,
        "opened_by": actor.id,
        "opened_at_us": now_us,
        "status_reason": None,
        "updated_at_us": now_us,
    }
    if existing is None:
        aid_repo.insert_wallet(connection, opened)
    else:  # a closed wallet opens again under the same key
        aid_repo.update_wallet(
            connection,
            holder,
            status=opened["status"],
            place_of_use=opened["place_of_use"],
            opened_by=opened["opened_by"],
            opened_at_us=now_us,
            status_reason=None,
            updated_at_us=now_us,
        )
    registry.record_event(
        connection,
        holder,
        "wallet_opened",
        actor.label,
        now_us,
        place_of_use=request.place_of_use,
        on_behalf=holder != actor.id,
    )
    return _wallet(uow, holder)


def _holder(ctx: Context, uow: UnitOfWork, actor: Actor, request: OpenRequest) -> str:
    if request.on_behalf_of_id_number is None:
        return actor.id
    relative = find_relative(
        ctx, uow, request.on_behalf_of_id_number, request.on_behalf_of_name or ""
    )
    if relative == actor.id:
        return actor.id
    me = require_person(uow, actor.id)
    other = require_person(uow, relative)
    related = (
        aid_repo.relationship_between(uow.connection, actor.id, relative, ["active"]) is not None
    )
    registered = any(
        registry.kinship_recorded(uow.connection, a, b, kind)
        for a, b in ((me.id_hash, other.id_hash), (other.id_hash, me.id_hash))
        for kind in _KINDS
    )
    if not (related or registered):
        raise wallet_errors.NotRelated()
    return relative


def find_relative(ctx: Context, uow: UnitOfWork, id_number: str, name: str) -> str:
    """The person with this ID number *and* name, or one refusal that says nothing more."""
    try:
        number = parse_resident_id(id_number.strip(), today=ctx.today()).number
    except GongjiError:
        raise wallet_errors.RelativeNotFound() from None
    id_hash = ctx.vault.id_number_hash(number)
    found = registry.person_by_id_hash(uow.connection, id_hash)
    if found is None or ctx.vault.name_hash(name.strip()) != found.name_hash:
        raise wallet_errors.RelativeNotFound()
    return found.psn_no


def _check_can_open(uow: UnitOfWork, holder: str) -> None:
    person = require_person(uow, holder)
    enrolment = governing_enrolment(uow, holder)
    if enrolment is None or enrolment.status == EnrolmentStatus.TERMINATED or person.death_date:
        raise EnrolmentNotActive(role="钱包持有人")
    if enrolment.status == EnrolmentStatus.SUSPENDED:
        raise PersonSuspended(role="钱包持有人")
    if not person.mobile_hash:
        raise wallet_errors.MobileNotVerified()


def _check_region(ctx: Context, region: str) -> None:
    if region not in ctx.regions:
        raise RegionUnknown(region=region)


def change_place_of_use(
    ctx: Context, uow: UnitOfWork, actor: Actor, place_of_use: str
) -> WalletRecord:
    _require_person_actor(actor)
    _check_region(ctx, place_of_use)
    wallet = _wallet(uow, actor.id, lock=True)
    if wallet.status != WalletStatus.OPEN:
        raise wallet_errors.WalletStateInvalid(status=wallet.status)
    enrolment = governing_enrolment(uow, actor.id)
    region = enrolment.region if enrolment else wallet.place_of_use
    if not ctx.policy(region).wallet_place_of_use_change_allowed:
        raise wallet_errors.PlaceOfUseChangeNotAllowed()
    now_us = ctx.now_us()
    aid_repo.update_wallet(
        uow.connection, actor.id, place_of_use=place_of_use, updated_at_us=now_us
    )
    registry.record_event(
        uow.connection,
        actor.id,
        "wallet_place_changed",
        actor.label,
        now_us,
        old=wallet.place_of_use,
        new=place_of_use,
    )
    return _wallet(uow, actor.id)


def set_frozen(
    ctx: Context, uow: UnitOfWork, actor: Actor, psn_no: str, frozen: bool, reason: str
) -> WalletRecord:
    """A risk decision: a frozen wallet can neither grant, accept nor spend shared money."""
    if actor.kind is not ActorKind.OPERATOR or not actor.roles & FREEZERS:
        raise Forbidden()
    reason = reason.strip()
    if not reason or len(reason) > REASON_LENGTH_MAX:
        raise wallet_errors.ReasonRequired()
    wallet = _wallet(uow, psn_no, lock=True)
    wanted_from = WalletStatus.OPEN if frozen else WalletStatus.FROZEN
    if wallet.status != wanted_from:
        raise wallet_errors.WalletStateInvalid(status=wallet.status)
    status = WalletStatus.FROZEN if frozen else WalletStatus.OPEN
    now_us = ctx.now_us()
    aid_repo.update_wallet(
        uow.connection, psn_no, status=status.value, status_reason=reason, updated_at_us=now_us
    )
    registry.record_event(
        uow.connection,
        psn_no,
        "wallet_frozen" if frozen else "wallet_unfrozen",
        actor.label,
        now_us,
        reason=reason,
    )
    if frozen:
        notices.wallet_frozen(ctx, uow, psn_no, str(now_us))
    return _wallet(uow, psn_no)


def close_wallet(ctx: Context, uow: UnitOfWork, actor: Actor) -> WalletRecord:
    _require_person_actor(actor)
    wallet = _wallet(uow, actor.id, lock=True)
    if wallet.status != WalletStatus.OPEN:
        raise wallet_errors.WalletStateInvalid(status=wallet.status)
    open_states = ["offered", "held", "active"]
    given = aid_repo.grants_by(uow.connection, contributor=actor.id, states=open_states, limit=1)
    received = aid_repo.grants_by(uow.connection, recipient=actor.id, states=open_states, limit=1)
    if given or received:
        raise wallet_errors.WalletHasOpenGrants()
    now_us = ctx.now_us()
    aid_repo.update_wallet(
        uow.connection, actor.id, status=WalletStatus.CLOSED.value, updated_at_us=now_us
    )
    registry.record_event(uow.connection, actor.id, "wallet_closed", actor.label, now_us)
    return _wallet(uow, actor.id)


def _wallet(uow: UnitOfWork, psn_no: str, *, lock: bool = False) -> WalletRecord:
    found = aid_repo.wallet(uow.connection, psn_no, lock=lock)
    if found is None:
        raise NotFound(what="医保钱包")
    return found


def _require_person_actor(actor: Actor) -> None:
    if actor.kind is not ActorKind.PERSON:
        raise Forbidden()


def wallet_status(uow: UnitOfWork, psn_no: str) -> WalletStatus | None:
    found = aid_repo.wallet(uow.connection, psn_no)
    return None if found is None else WalletStatus(found.status)
