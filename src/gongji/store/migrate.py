"""Applying Alembic migrations to a database: by ``gongji db upgrade`` and on every start."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from gongji.store import raw
from gongji.store.engine import is_sqlite
from gongji.store.uow import UnitOfWork, run_in_transaction

SCRIPT_LOCATION = "gongji.store:migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Bring the schema to ``revision``; returns the revision the database is at afterwards."""
    config = _config()
    before = current_revision(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    after = current_revision(engine)
    if after != before and is_sqlite(engine):
        _checkpoint(engine)
    return after


def _checkpoint(engine: Engine) -> None:
    """Copy the log into the file and empty it: a migration that scrubbed data (0021 dropped
    persons' clear birth dates with ``secure_delete``) wrote zeroed pages to the log only, and
    until a checkpoint the file itself still holds the old pages."""
    connection = engine.raw_connection()  # outside any transaction, which BEGIN would open
    try:
        connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    finally:
        connection.close()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def recorded_revision(engine: Engine) -> str | None:
    """The revision in ``alembic_version`` of a database gongji has migrated (it migrates on
    every start), read in one statement: the health endpoint's answer. Alembic's own reading
    first reflects the table, a third of a health request's time under load."""

    def read(uow: UnitOfWork) -> str | None:
        rows = raw.fetch(uow.connection, "SELECT version_num FROM alembic_version", {})
        return str(rows[0][0]) if rows else None

    return run_in_transaction(engine, read, read_only=True)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()
