"""The query planner's statistics, gathered at once after a bulk write on PostgreSQL.

PostgreSQL plans each query from its statistics of the tables, which autovacuum gathers once
enough rows have changed, within about a minute. Tables that have just taken a bulk import (a
province's population into a new store) have none until then, and the planner reads a
person's rows by a sequential scan that grows with every row: the settle bench saw risk's read
of a person's moves take 650 µs a call on such a table, a few microseconds once analyzed
(docs/benchmarks.md). SQLite plans without statistics unless ``ANALYZE`` ran once, and gongji
runs none there.
"""

from __future__ import annotations

from sqlalchemy import Engine, text


def gather_statistics(engine: Engine) -> None:
    """PostgreSQL: ``ANALYZE`` every table of the engine's schema (not every schema of the
    database: another store or a test may share it). ``ANALYZE`` reads a sample of each table
    (30 000 rows at PostgreSQL's default target), so it takes seconds on a province's store, not
    a scan of it. SQLite: nothing."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        listed = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        tables = [str(row[0]) for row in connection.execute(text(listed))]
        if tables:
            quoted = ", ".join('"' + table.replace('"', '""') + '"' for table in tables)
            connection.execute(text(f"ANALYZE {quoted}"))
