"""Tables of the back office's statistics: figures per business day, kept by the statistics job
(``backoffice.service.statistics.refresh``) so that no page or report scans the ledger or the
grant rows to answer. Created by migration 0040.

``stats_daily`` holds, per day, metric, region and a second key (a kind, a state, a region the
money went to, an institution type and med_type), how many and how many fen. A day's rows of a
metric are replaced as a whole when the day is refreshed, so a refresh run twice changes nothing.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table

from gongji.store.tables import metadata

stats_daily = Table(
    "stats_daily",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("metric", String(24), primary_key=True),
    Column("region", String(6), primary_key=True),
    Column("other", String(24), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
)

stats_state = Table(
    "stats_state",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

STATS_TABLES = (stats_daily, stats_state)
