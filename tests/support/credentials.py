"""What a patient presents at the counter, as an institution's request carries it: the ID card
number with the holder's name, or the e-voucher token (docs/settlement-api.md, "The patient")."""

from __future__ import annotations

from gongji.kernel.context import Context
from gongji.people.service.credentials_lookup import issue_ec_token
from support.world import IDS


def card(psn_no: str, *, cert_type: str = "02") -> dict[str, str]:
    """The ID card (``02``; ``03`` the social-security card) of a person made by
    ``support.world.insured``, with the name on it."""
    id_number, name = IDS[psn_no]
    return card_of(id_number, name, cert_type=cert_type)


def card_of(id_number: str, name: str, *, cert_type: str = "02") -> dict[str, str]:
    """A card number and the holder's name, as a request's (or the desk form's) fields."""
    return {"mdtrt_cert_type": cert_type, "mdtrt_cert_no": id_number, "psn_name": name}


def voucher(ctx: Context, psn_no: str) -> dict[str, str]:
    """The person's e-voucher as the scanner reads it: the token alone names its holder."""
    return {"mdtrt_cert_type": "01", "mdtrt_cert_no": issue_ec_token(ctx, psn_no)}
