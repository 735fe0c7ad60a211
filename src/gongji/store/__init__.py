"""Storage every area shares: the schema (SQLAlchemy Core tables, the one source of truth for
both hand-written and generated SQL), Alembic migrations, engines, the unit of work, the SQLite
writer's turn and the helpers that read rows into typed records. Each area keeps its own SQL in
``<area>/store``.

Invariants: ``ledger_transfers`` and ``ledger_pending_resolutions`` are append-only, enforced by
database triggers on SQLite and PostgreSQL (see the first migration); every write transaction on
SQLite starts with ``BEGIN IMMEDIATE``; a unit of work rolls back unless committed.
"""
