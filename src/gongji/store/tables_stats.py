"""Tables of the back office's statistics, kept by the statistics job
(``backoffice.service.statistics.refresh``) so that no page or report scans the ledger or the
grant rows to answer. Created by migration 0040.

``stats_summary`` holds, per period, metric, region and a second key (a state, a kind, a
province, an institution type and med_type), how many and how many fen. A period is a business
day (``2026-03-02``), a month (``2026-03``) or a year (``2026``): months and years are rolled up
from their days when one of them changes, so a year's figures read a year's rows, not 365 days
of them. A period's rows are replaced as a whole, so a refresh run twice changes nothing.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table

from gongji.store.tables import metadata

stats_summary = Table(
    "stats_summary",
    metadata,
    Column("period", String(10), primary_key=True),
    Column("metric", String(24), primary_key=True),
    Column("region", String(6), primary_key=True),
    Column("other", String(24), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Index("ix_stats_summary_metric_period", "metric", "period"),  # the days' totals, for charts
)

stats_state = Table(
    "stats_state",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

STATS_TABLES = (stats_summary, stats_state)
