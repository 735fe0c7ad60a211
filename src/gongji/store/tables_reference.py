"""The reference rows' generation: one row whose number changes with every change to the
tables each settlement reads as reference: institutions, their signing keys, the catalogue.

A process keeps the rows of those tables it has read, each with the number it was read under,
and uses one only while its transaction sees that very number (kernel/reference_rows.py).
Triggers give the row a new number in the transaction of every change, whoever writes it
(gongji, an import, an operator's hand-typed ``UPDATE``; store/reference_triggers.py). The
number is random, not counted: one drawn in a transaction that was rolled back is never drawn
again, so rows read inside it can never pass for another transaction's. Created by migration
0190.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import BigInteger, Column, Integer, Table

from gongji.store.tables import metadata

GENERATION_ROW_ID: Final = 1

reference_generation = Table(
    "reference_generation",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always GENERATION_ROW_ID
    Column("generation", BigInteger, nullable=False),
)

REFERENCE_TABLES: Final = ("institutions", "institution_credentials", "catalogue_items")
"""The tables whose every change renumbers the generation."""

GENERATION_COLUMN: Final = "(SELECT generation FROM reference_generation WHERE id = 1)"
"""The generation as a column of a reference row's read: the row and the number it was read
under come from one statement, so from one snapshot on both databases."""

GENERATION = "SELECT generation FROM reference_generation WHERE id = 1"
"""The generation a transaction sees (kernel/reference_rows.py reads it once a transaction)."""
