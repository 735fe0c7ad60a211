"""`gongji backup OUT` and `gongji restore IN`: the database, with the key handled explicitly.

A backup never contains the key; ``--include-key`` writes it to a separate file (``OUT.key``,
0600) to be stored apart from the backup. Restore compares the backup's key fingerprint with
the key it is given before writing anything, restores into a new database only, and ends with
the ledger check, so that every restore is also a drill.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from gongji.cli.common import (
    EXIT_CHECK_FAILED,
    audit_server_command,
    container,
    fail,
    read_settings,
    readable_errors,
)
from gongji.config import Settings
from gongji.kernel.context import Context
from gongji.kernel.keys import KeyMismatch, short
from gongji.kernel.pii import (
    encode_key,
    fingerprint,
    key_file,
    read_key,
    read_key_file,
    write_key_file,
)
from gongji.ledger.check import check_ledger
from gongji.store import backup as store
from gongji.store.engine import is_sqlite_url, make_engine
from gongji.store.uow import UnitOfWork, run_in_transaction


def backup(
    out: Annotated[Path, typer.Argument(help="A new file for the backup (mode 0600).")],
    include_key: Annotated[
        bool, typer.Option("--include-key", help="Also write the key to OUT.key (mode 0600).")
    ] = False,
) -> None:
    """Back the database up, consistently while the server runs (the key is not in it)."""
    with container() as built, readable_errors(), _problems():
        settings = built.settings
        if is_sqlite_url(settings.database_url):
            store.backup_sqlite(store.sqlite_path(settings.database_url), out)
        else:
            store.backup_postgres(settings.database_url, out, store.server_major(built.engine))
        key = read_key(settings.secret_key, settings.data_dir)
        assert key is not None  # the container checked it
        key_fingerprint = short(fingerprint(key))
        _record_backup(built.context, out, key_fingerprint, include_key)
        typer.echo(f"backup written to {out} (key fingerprint {key_fingerprint})")
        if include_key:
            key_out = out.with_name(out.name + ".key")
            store.new_private_file(key_out)
            key_out.write_text(encode_key(key) + "\n", encoding="ascii")
            typer.echo(f"key written to {key_out}: store it apart from the backup")
        else:
            typer.echo("the key is not in the backup: restoring it needs the key, kept apart")


def _record_backup(ctx: Context, out: Path, key_fingerprint: str, include_key: bool) -> None:
    """A copy of every record, personal data included, has left the database: said in its
    audit trail once the copy is whole (file name, key fingerprint, whether the key went with
    it), by whoever holds the server. The copy itself predates the record."""

    def work(uow: UnitOfWork) -> None:
        audit_server_command(
            ctx, uow, "admin.backup", file=out.name, key=key_fingerprint, key_written=include_key
        )
        uow.commit()

    run_in_transaction(ctx.engine, work)


def restore(
    backup_file: Annotated[Path, typer.Argument(help="A file written by gongji backup.")],
    key_file_option: Annotated[
        Path | None,
        typer.Option("--key-file", help="The backup's key (default: the configured key)."),
    ] = None,
) -> None:
    """Restore a backup into a new, empty database, then check the ledger."""
    settings = read_settings()
    with readable_errors(), _problems():
        key = _restore_key(settings, key_file_option)
        stored = _fingerprint_of(backup_file)
        if stored != fingerprint(key):
            raise KeyMismatch(given=short(fingerprint(key)), stored=short(stored))
        _restore_into(settings, backup_file)
        if read_key(settings.secret_key, settings.data_dir) is None:
            _install_key(settings, key)
    typer.echo(f"restored {backup_file} into {settings.describe_database()}")
    with container() as built, readable_errors():
        report = check_ledger(built.engine)
    typer.echo(report.verdict())
    if not report.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


def _restore_key(settings: Settings, given: Path | None) -> bytes:
    configured = read_key(settings.secret_key, settings.data_dir)
    if given is None:
        if configured is None:
            fail("no key: give --key-file FILE (the backup's key) or configure GONGJI_SECRET_KEY")
        return configured
    key = read_key_file(given)
    if configured is not None and fingerprint(configured) != fingerprint(key):
        raise KeyMismatch(given=short(fingerprint(configured)), stored=short(fingerprint(key)))
    return key


def _fingerprint_of(backup_file: Path) -> str:
    kind = store.backup_format(backup_file)
    found = (
        store.sqlite_fingerprint(backup_file)
        if kind == "sqlite"
        else store.postgres_fingerprint(backup_file)
    )
    if found is None:
        fail(f"{backup_file} records no key fingerprint: not a backup gongji can check")
    return found


def _restore_into(settings: Settings, backup_file: Path) -> None:
    kind = store.backup_format(backup_file)
    if is_sqlite_url(settings.database_url) != (kind == "sqlite"):
        fail(f"a {kind} backup cannot be restored into {settings.describe_database()}")
    if kind == "sqlite":
        store.restore_sqlite(backup_file, store.sqlite_path(settings.database_url))
        return
    engine = make_engine(settings.database_url)
    try:
        if store.holds_gongji(engine):
            fail(f"{settings.describe_database()} is not empty: restore into a new database")
    finally:
        engine.dispose()
    store.restore_postgres(backup_file, settings.database_url)


def _install_key(settings: Settings, key: bytes) -> None:
    write_key_file(key_file(settings.data_dir), key)
    typer.echo(f"key installed as {key_file(settings.data_dir)}")


@contextmanager
def _problems() -> Iterator[None]:
    """A backup tool's refusal becomes the usual one line and exit 2."""
    try:
        yield
    except store.BackupProblem as error:
        fail(str(error))
