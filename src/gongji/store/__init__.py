"""Storage: SQLAlchemy 2 Core tables, Alembic migrations, engines and the unit of work.

Invariants: ``ledger_transfers`` and ``ledger_pending_resolutions`` are append-only, enforced by
database triggers on SQLite and PostgreSQL (see the first migration); every write transaction on
SQLite starts with ``BEGIN IMMEDIATE``; a unit of work rolls back unless committed.
"""
