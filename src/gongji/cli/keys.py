"""`gongji keys fingerprint|generate|rotate`: the secret key that seals personal data.

The key never appears on a command line (it would stay in the shell's history and in ``ps``):
keys are read from files or from the environment, and a new key is written to a file 0600.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from gongji.bootstrap import SEALED_TABLES
from gongji.cli.common import container, fail, read_settings, readable_errors
from gongji.config import Settings
from gongji.kernel.key_rotation import ROTATION_BATCH_ROWS, rotate_key
from gongji.kernel.keys import short
from gongji.kernel.pii import (
    decode_key,
    fingerprint,
    key_file,
    new_key,
    read_key,
    read_key_file,
    write_key_file,
)
from gongji.store.engine import make_engine
from gongji.store.migrate import upgrade

keys_app = typer.Typer(
    help="The secret key: fingerprint, a new key, rotation.", no_args_is_help=True
)
NEW_KEY_VARIABLE = "GONGJI_NEW_SECRET_KEY"


@keys_app.command("fingerprint")
def keys_fingerprint() -> None:
    """Print the fingerprint of the configured key, once start-up accepts it for the database."""
    with container() as built, readable_errors():
        key = read_key(built.settings.secret_key, built.settings.data_dir)
        assert key is not None  # the container would not have started without it
    typer.echo(fingerprint(key))


@keys_app.command("generate")
def keys_generate(
    out: Annotated[Path, typer.Argument(help="A new file to write the key to (mode 0600).")],
) -> None:
    """Write a new random key to a new file and print its fingerprint (nothing else changes)."""
    with readable_errors():
        key = new_key()
        write_key_file(out, key)
    typer.echo(f"new key written to {out} (fingerprint {fingerprint(key)})")


@keys_app.command("rotate")
def keys_rotate(
    new_key_file: Annotated[
        Path | None,
        typer.Option("--new-key-file", help=f"The new key's file (or set {NEW_KEY_VARIABLE})."),
    ] = None,
    batch_rows: Annotated[int, typer.Option(min=1, help="Rows per transaction.")] = (
        ROTATION_BATCH_ROWS
    ),
) -> None:
    """Re-encrypt every encrypted column under a new key, then switch the stored fingerprint.

    The old key is the configured one (GONGJI_SECRET_KEY or the data directory's key file).
    Stop the server first. Interrupted, it resumes when run again with the same two keys.
    """
    settings = read_settings()
    with readable_errors():
        old = read_key(settings.secret_key, settings.data_dir)
        if old is None:
            fail(f"no key configured: GONGJI_SECRET_KEY or {key_file(settings.data_dir)}")
        new = _new_key(new_key_file)
        engine = make_engine(settings.database_url)
        try:
            upgrade(engine)
            report = rotate_key(engine, old, new, SEALED_TABLES, batch_rows=batch_rows)
        finally:
            engine.dispose()
        rows = ", ".join(f"{table} {count}" for table, count in report.rows.items())
        typer.echo(
            f"key rotated {short(report.old_fingerprint)} → {short(report.new_fingerprint)}"
            f"{' (resumed)' if report.resumed else ''}: {rows} rows re-encrypted"
        )
        _install_new_key(settings, new)


def _new_key(new_key_file: Path | None) -> bytes:
    if new_key_file is not None:
        return read_key_file(new_key_file)
    text = os.environ.get(NEW_KEY_VARIABLE)
    if not text:
        fail(f"give the new key: --new-key-file FILE or {NEW_KEY_VARIABLE}")
    return decode_key(text, source=NEW_KEY_VARIABLE)


def _install_new_key(settings: Settings, new: bytes) -> None:
    """The data directory's key file is replaced (the old one kept beside it, for restoring
    older backups); a key from the environment is the operator's to change."""
    if settings.secret_key:
        typer.echo("set GONGJI_SECRET_KEY to the new key before starting gongji again")
        return
    current = key_file(settings.data_dir)
    kept = current.with_name(f"{current.name}.{short(fingerprint(read_key_file(current)))}.old")
    os.replace(current, kept)
    write_key_file(current, new)
    typer.echo(f"{current} holds the new key; the old one is {kept}: keep it with older backups")
