"""/api/v1 for insured persons: their wallet, relationships, grants and authorizations.

Every route acts for the person behind the bearer token; another person's objects answer 404.
Writes go through :func:`gongji.api.writes.write` (Idempotency-Key, one transaction). A write that
moves money (an offer, an authorization) first checks the payment password in the body
(docs/rules.md §16), which the idempotency fingerprint leaves out.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from gongji.api.deps import get_context, require_person
from gongji.api.reads import read
from gongji.api.schemas import iso, parse_amount
from gongji.api.writes import write
from gongji.identity.service import payment_password
from gongji.kernel.context import Actor, Context
from gongji.mutual_aid.http.schemas import (
    AcceptedOut,
    AcceptIn,
    AuthorizationOut,
    BindIn,
    EventOut,
    GrantLineOut,
    GrantOut,
    HistoryOut,
    MutualAidChoiceIn,
    MutualAidChoiceOut,
    OfferIn,
    OpenWalletIn,
    PlaceOfUseIn,
    ProposeIn,
    RelationshipOut,
    WalletOut,
    WalletViewOut,
    without_secrets,
)
from gongji.mutual_aid.service import (
    authorizations,
    grants,
    mutual_aid_choice,
    relationships,
    wallet_view,
    wallets,
)

router = APIRouter(prefix="/api/v1", tags=["wallet"])
Person = Annotated[Actor, Depends(require_person)]
Ctx = Annotated[Context, Depends(get_context)]


@router.get("/wallet", response_model=WalletViewOut, summary="My wallet: account, quotas, today")
def get_wallet(person: Person, ctx: Ctx) -> WalletViewOut:
    return WalletViewOut.of(read(ctx, lambda uow: wallet_view.wallet_view(ctx, uow, person.id)))


@router.get("/wallet/history", response_model=HistoryOut, summary="My history, oldest first")
def get_history(
    person: Person,
    ctx: Ctx,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> HistoryOut:
    events, next_cursor = read(ctx, lambda uow: wallet_view.history(uow, person.id, cursor, limit))
    return HistoryOut(
        events=[
            EventOut(seq=e.seq, kind=e.kind, at=iso(e.at_us), actor=e.actor, detail=e.detail)
            for e in events
        ],
        next_cursor=next_cursor,
    )


@router.post(
    "/wallet/open", response_model=WalletOut, summary="Open my wallet, or a relative's (代开通)"
)
def open_wallet(body: OpenWalletIn, request: Request, person: Person) -> JSONResponse:
    on_behalf = body.on_behalf_of
    opening = wallets.OpenRequest(
        body.place_of_use,
        on_behalf.id_number if on_behalf else None,
        on_behalf.name if on_behalf else None,
    )
    return write(
        request,
        person,
        "wallet.open",
        body,
        lambda ctx, uow: WalletOut.of(wallets.open_wallet(ctx, uow, person, opening)),
    )


@router.put("/wallet/place-of-use", response_model=WalletOut, summary="Change the place of use")
def change_place(body: PlaceOfUseIn, request: Request, person: Person) -> JSONResponse:
    return write(
        request,
        person,
        "wallet.place",
        body,
        lambda ctx, uow: WalletOut.of(
            wallets.change_place_of_use(ctx, uow, person, body.place_of_use)
        ),
    )


@router.put(
    "/wallet/mutual-aid",
    response_model=MutualAidChoiceOut,
    summary="就医时使用家庭共济: whether quotas and authorizations pay my care",
)
def choose_mutual_aid(body: MutualAidChoiceIn, request: Request, person: Person) -> JSONResponse:
    return write(
        request,
        person,
        "wallet.mutual_aid",
        body,
        lambda ctx, uow: MutualAidChoiceOut.of(
            mutual_aid_choice.choose(ctx, uow, person, body.use_mutual_aid)
        ),
    )


@router.post("/wallet/close", response_model=WalletOut, summary="Close my wallet")
def close_wallet(request: Request, person: Person) -> JSONResponse:
    return write(
        request,
        person,
        "wallet.close",
        {},
        lambda ctx, uow: WalletOut.of(wallets.close_wallet(ctx, uow, person)),
    )


@router.get("/relationships", response_model=list[RelationshipOut], summary="My relationships")
def list_relationships(person: Person, ctx: Ctx) -> list[RelationshipOut]:
    return [
        RelationshipOut.of(r) for r in read(ctx, lambda uow: relationships.list_for(uow, person.id))
    ]


@router.post(
    "/relationships",
    response_model=RelationshipOut,
    status_code=201,
    summary="Propose a relationship: this ID number and name is my KIND",
)
def propose(body: ProposeIn, request: Request, person: Person) -> JSONResponse:
    return write(
        request,
        person,
        "relationships.propose",
        body,
        lambda ctx, uow: RelationshipOut.of(
            relationships.propose(ctx, uow, person, body.id_number, body.name, body.kind)
        ),
        status_code=201,
    )


def _relationship_action(name: str, action: relationships.Action) -> None:
    def route(relationship_id: str, request: Request, person: Person) -> JSONResponse:
        return write(
            request,
            person,
            f"relationships.{name}",
            {"id": relationship_id},
            lambda ctx, uow: RelationshipOut.of(action(ctx, uow, person, relationship_id)),
        )

    router.add_api_route(
        f"/relationships/{{relationship_id}}/{name}",
        route,
        methods=["POST"],
        response_model=RelationshipOut,
        summary=f"{name.capitalize()} a relationship",
    )


for _verb, _relationship_step in (
    ("confirm", relationships.confirm),
    ("reject", relationships.reject),
    ("dissolve", relationships.dissolve),
):
    _relationship_action(_verb, _relationship_step)


@router.get(
    "/grants", response_model=dict[str, list[GrantLineOut]], summary="Grants I gave and received"
)
def list_grants(person: Person, ctx: Ctx) -> dict[str, list[GrantLineOut]]:
    view = read(ctx, lambda uow: wallet_view.wallet_view(ctx, uow, person.id))
    return {
        "given": [GrantLineOut.of_line(line) for line in view.given],
        "received": [GrantLineOut.of_line(line) for line in view.received],
        "offers_to_me": [GrantLineOut.of_line(line) for line in view.offers_to_me],
    }


@router.post(
    "/grants", response_model=GrantOut, status_code=201, summary="Offer a grant to a relative"
)
def offer(body: OfferIn, request: Request, person: Person, ctx: Ctx) -> JSONResponse:
    payment_password.confirm_payment(ctx, person, body.payment_password)
    return write(
        request,
        person,
        "grants.offer",
        without_secrets(body),
        lambda ctx, uow: GrantOut.of(
            grants.offer(ctx, uow, person, body.recipient, parse_amount(body.amount))
        ),
        status_code=201,
    )


@router.get("/grants/{grant_id}", response_model=GrantOut, summary="One grant I gave or received")
def get_grant(grant_id: str, person: Person, ctx: Ctx) -> GrantOut:
    return GrantOut.of(read(ctx, lambda uow: grants.grant_visible_to(uow, person, grant_id)))


def _grant_action(name: str, action: grants.Action) -> None:
    def route(grant_id: str, request: Request, person: Person) -> JSONResponse:
        return write(
            request,
            person,
            f"grants.{name}",
            {"id": grant_id},
            lambda ctx, uow: GrantOut.of(action(ctx, uow, person, grant_id)),
        )

    router.add_api_route(
        f"/grants/{{grant_id}}/{name}",
        route,
        methods=["POST"],
        response_model=GrantOut,
        summary=f"{name.capitalize()} a grant",
    )


@router.post(
    "/grants/{grant_id}/accept",
    response_model=AcceptedOut,
    summary="Accept a grant, and choose 就医时使用家庭共济 in the same step",
)
def accept_grant(
    grant_id: str, request: Request, person: Person, body: AcceptIn | None = None
) -> JSONResponse:
    chosen = (body or AcceptIn()).use_mutual_aid
    said = {} if chosen is None else {"use_mutual_aid": chosen}  # a bare accept hashes as before
    return write(
        request,
        person,
        "grants.accept",
        {"id": grant_id, **said},
        lambda ctx, uow: AcceptedOut.of_acceptance(
            mutual_aid_choice.accept(ctx, uow, person, grant_id, chosen)
        ),
    )


for _grant_verb, _grant_step in (
    ("reject", grants.reject),
    ("revoke", grants.revoke),
    ("return", grants.give_back),
):
    _grant_action(_grant_verb, _grant_step)


@router.get("/authorizations", response_model=list[AuthorizationOut], summary="My authorizations")
def list_authorizations(person: Person, ctx: Ctx) -> list[AuthorizationOut]:
    return [
        AuthorizationOut.of(a)
        for a in read(ctx, lambda uow: authorizations.list_for(uow, person.id))
    ]


@router.post(
    "/authorizations",
    response_model=AuthorizationOut,
    status_code=201,
    summary="Authorize a relative to draw on my account (家庭共济授权)",
)
def bind(body: BindIn, request: Request, person: Person, ctx: Ctx) -> JSONResponse:
    quota = None if body.quota is None else parse_amount(body.quota)
    payment_password.confirm_payment(ctx, person, body.payment_password)
    return write(
        request,
        person,
        "authorizations.bind",
        without_secrets(body),
        lambda ctx, uow: AuthorizationOut.of(
            authorizations.bind(ctx, uow, person, body.recipient, quota)
        ),
        status_code=201,
    )


@router.post(
    "/authorizations/{authorization_id}/revoke",
    response_model=AuthorizationOut,
    summary="End an authorization",
)
def revoke_authorization(authorization_id: str, request: Request, person: Person) -> JSONResponse:
    return write(
        request,
        person,
        "authorizations.revoke",
        {"id": authorization_id},
        lambda ctx, uow: AuthorizationOut.of(
            authorizations.revoke(ctx, uow, person, authorization_id)
        ),
    )
