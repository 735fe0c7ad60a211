"""Which columns hold values encrypted under the secret key, as each area declares them.

A rotation re-encrypts exactly these, and start-up tries the configured key on the first value
it finds in them; ``gongji.bootstrap.SEALED_TABLES`` gathers every area's declaration, and a
test holds it equal to the schema's ``*_enc`` columns, so a new encrypted column cannot be
forgotten by either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Table


@dataclass(frozen=True, slots=True)
class SealedColumn:
    """A column of encrypted text; ``context`` gives the AEAD context a row's value was sealed
    with, from the row's primary key (an operator's TOTP secret is bound to its name)."""

    name: str
    context: Callable[[str], str]


@dataclass(frozen=True, slots=True)
class SealedTable:
    table: Table
    key: str
    """The single text primary key: rotation walks the table in its order."""
    columns: tuple[SealedColumn, ...]


def fixed(context: str) -> Callable[[str], str]:
    """The context of a column whose values all share one (persons' ID numbers, names)."""
    return lambda _key: context
