"""`gongji institutions …` and `gongji catalogue …`: designated institutions, their signing keys,
and the medical-insurance catalogue.

Imports are all or nothing (a bad line writes nothing, every problem is printed with its line,
exit 2) and idempotent (the same file again changes nothing); a changed line updates its row.
A signing secret is printed once, when issued, and cannot be shown again: issue a new key and
revoke the old one instead. Every command that writes records itself in the audit trail
(``institution.credentials`` with the key's id, never its secret; ``institution.revoke``,
``institution.gateway``, ``admin.import.institutions``, ``admin.import.catalogue``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from gongji.cli.common import (
    audit_import,
    audit_server_command,
    container,
    readable_errors,
    refuse_import,
)
from gongji.cli.imports import read_import_file
from gongji.core.clock import from_us
from gongji.core.money import format_yuan
from gongji.identity.service import gateway
from gongji.institutions.service import institutions
from gongji.kernel.context import Context
from gongji.kernel.upsert_import import UpsertResult
from gongji.settlement.service import catalogue
from gongji.store.uow import UnitOfWork, run_in_transaction

CsvFile = Annotated[
    Path, typer.Argument(help="A UTF-8 CSV file.", exists=True, dir_okay=False, readable=True)
]
Importer = Callable[[Context, UnitOfWork, str], UpsertResult]

institutions_app = typer.Typer(
    help="Designated institutions (定点医药机构) and their signing keys.", no_args_is_help=True
)
catalogue_app = typer.Typer(
    help="The medical-insurance catalogue (医保目录).", no_args_is_help=True
)


@institutions_app.command("import")
def import_institutions(file: CsvFile) -> None:
    """Institutions: code,name,region,kind,level,supports_wallet,status."""
    _import(file, institutions.import_institutions)


@institutions_app.command("credentials")
def credentials(code: Annotated[str, typer.Argument(help="The 12-character code.")]) -> None:
    """Issue a signing key for an institution and print its secret, this once."""
    with container() as built, readable_errors():

        def work(uow: UnitOfWork) -> institutions.IssuedCredentials:
            issued = institutions.issue_credentials(built.context, uow, code)
            audit_server_command(
                built.context, uow, "institution.credentials", subject=code, key_id=issued.key_id
            )
            uow.commit()
            return issued

        issued = run_in_transaction(built.engine, work)
    typer.echo(f"key id: {issued.key_id}")
    typer.echo(f"secret: {issued.secret}")
    typer.echo("The secret is shown only now; give it to the institution over a safe channel.")


@institutions_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key id to revoke.")]) -> None:
    """Revoke a signing key: requests signed with it are refused from now on."""
    with container() as built, readable_errors():

        def work(uow: UnitOfWork) -> None:
            institutions.revoke_credentials(built.context, uow, key_id)
            audit_server_command(built.context, uow, "institution.revoke", key_id=key_id)
            uow.commit()

        run_in_transaction(built.engine, work)
    typer.echo(f"revoked {key_id}")


@institutions_app.command("gateway")
def gateway_scheme(
    code: Annotated[str, typer.Argument(help="The 12-character code.")],
    scheme: Annotated[
        gateway.AuthScheme, typer.Argument(help="tif: also accept the x-tif-* headers.")
    ],
) -> None:
    """The national interface's authentication for an institution: hmac-sm3 (the default,
    gongji's signature over the whole body) or tif (the platform gateway's x-tif-* headers as
    well, signed with the same key: docs/signing.md)."""
    with container() as built, readable_errors():

        def work(uow: UnitOfWork) -> None:
            gateway.choose_scheme(built.context, uow, code, scheme)
            audit_server_command(
                built.context, uow, "institution.gateway", subject=code, scheme=scheme.value
            )
            uow.commit()

        run_in_transaction(built.engine, work)
    typer.echo(f"{code}: {scheme.value}")


@institutions_app.command("list")
def list_command(
    region: Annotated[str | None, typer.Option(help="Only this region (6 digits).")] = None,
) -> None:
    """Institutions by code (at most the first 500)."""
    with container() as built, readable_errors():
        found = run_in_transaction(
            built.engine,
            lambda uow: institutions.list_institutions(
                built.context, uow, region=region, limit=institutions.LIST_LIMIT_MAX
            ),
            read_only=True,
        )
    for record in found:
        value = record.institution
        wallet = "wallet" if value.supports_wallet else "-"
        typer.echo(
            f"{value.code}  {value.region}  {value.kind.value:8}  {value.level.value:9}  "
            f"{value.status.value:9}  {wallet:6}  {value.name}"
        )


@catalogue_app.command("import")
def import_catalogue(file: CsvFile) -> None:
    """Catalogue items: code,name,item_class,selfpay_prop,price_ceiling,account_payable,
    category,in_catalogue[,price_fixed]."""
    _import(file, catalogue.import_catalogue)


@catalogue_app.command("show")
def show(code: Annotated[str, typer.Argument(help="The item code.")]) -> None:
    """One catalogue item as settlement sees it."""
    with container() as built, readable_errors():
        entry = run_in_transaction(
            built.engine, lambda uow: catalogue.get_item(built.context, uow, code), read_only=True
        )
    item = entry.item
    ceiling = "none" if item.price_ceiling_fen is None else format_yuan(item.price_ceiling_fen)
    for label, value in (
        ("code", item.code),
        ("name", item.name),
        ("class", item.item_class.value),
        ("first self-pay", str(item.selfpay_prop)),
        ("price ceiling", ceiling),
        ("fixed price", "yes" if item.price_fixed else "no"),
        ("category", item.category.value),
        ("in catalogue", "yes" if item.in_catalogue else "no"),
        ("account may pay", "yes" if item.account_eligible else "no"),
        ("updated", from_us(entry.updated_at_us).isoformat()),
    ):
        typer.echo(f"{label:16} {value}")


def _import(file: Path, importer: Importer) -> None:
    with container() as built, readable_errors():
        text = read_import_file(file)

        def work(uow: UnitOfWork) -> UpsertResult:
            result = importer(built.context, uow, text)
            if result.ok:
                audit_import(
                    built.context,
                    uow,
                    result.kind,
                    file,
                    lines=result.lines,
                    created=result.created,
                    updated=result.updated,
                )
                uow.commit()
            return result

        result = run_in_transaction(built.engine, work)
    if result.ok:
        typer.echo(
            f"import {result.kind} {file.name}: {result.lines} lines, {result.created} created, "
            f"{result.updated} updated, {result.unchanged} unchanged"
        )
        return
    refuse_import(result.kind, file, result.errors)
