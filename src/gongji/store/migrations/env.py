"""Alembic environment: always run with a connection handed in by ``gongji.store.migrate``."""

from __future__ import annotations

from alembic import context

from gongji.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `gongji db upgrade` (gongji.store.migrate)")

context.configure(connection=connection, target_metadata=metadata, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
