"""Write-time screening: the facts of a write, handed to callbacks that a higher area puts on
the Context, inside the write's own unit of work.

Risk monitoring sits above mutual aid and settlement (it reads their rows and freezes their
wallets), so those areas cannot import it; yet its cheapest checks belong at the moment of a
grant or a settlement. So the lower area states what happened, in the plain values below, and
calls ``screen``; whoever registered on the Context (bootstrap registers risk) judges. A screen
may flag the write, and answers whether the write is to be held for review; the lower area
decides what holding means for its own rows (mutual aid holds a grant in its ``held`` state).
A screen never refuses the write, and with no screen registered the call costs a loop over an
empty tuple.

A screen also names the reads it will make for a write (``reads_ahead``), so that the writer
can make them ahead with its own: on PostgreSQL a settlement's screen reads in the ledger's
round trip instead of one of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from gongji.kernel.context import Context
    from gongji.store.raw import Read
    from gongji.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class GrantOffered:
    grant_id: str
    contributor: str
    recipient: str
    amount_fen: int
    at_us: int


@dataclass(frozen=True, slots=True)
class SharedMoneySpent:
    setl_id: str
    psn_no: str
    institution_code: str
    shared_fen: int
    at_us: int


WriteFacts = GrantOffered | SharedMoneySpent


class Screen(Protocol):
    def __call__(self, ctx: Context, uow: UnitOfWork, facts: WriteFacts) -> bool:
        """Judge a write in its unit of work; ``True`` asks that the write be held for review."""

    def reads_ahead(self, facts: WriteFacts) -> Sequence[Read]:
        """What judging ``facts`` reads first, none needing another's answer."""


def screen(ctx: Context, uow: UnitOfWork, facts: WriteFacts) -> bool:
    """Hand ``facts`` to every screen registered on ``ctx``, in the caller's unit of work; ``True``
    when any of them asks to hold the write (every screen runs, so each records its flags)."""
    verdicts = [registered(ctx, uow, facts) for registered in ctx.screens]
    return any(verdicts)


def reads_ahead(ctx: Context, facts: WriteFacts) -> list[Read]:
    """What the screens registered on ``ctx`` read first to judge ``facts``: for the writer to
    read ahead (``uow.prefetch``), once the rows the screens must see are written."""
    return [read for registered in ctx.screens for read in registered.reads_ahead(facts)]
