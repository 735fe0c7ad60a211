"""Reference rows kept in memory (kernel/reference_rows.py), on SQLite and PostgreSQL: an
institution, a signing key and catalogue items are read once and then taken from memory, and
every change to their tables, by gongji or by a hand-typed statement, by this process or
another, is seen by the next transaction; rows read inside a transaction that was rolled back
are never taken for the database's."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from gongji.core.clock import ManualClock
from gongji.institutions.domain.institutions import InstitutionSuspended, MedType
from gongji.institutions.service import institutions
from gongji.institutions.store import institutions_repo
from gongji.kernel.context import Context
from gongji.kernel.reference_rows import KeptRows
from gongji.settlement.service import catalogue
from gongji.settlement.store import catalogue_repo
from gongji.store.uow import UnitOfWork
from support.world import build_context, run

INSTITUTIONS_CSV = """code,name,region,kind,level,supports_wallet,status
H34010000001,合肥市示范第一人民医院,340100,hospital,tertiary,1,active
"""
CATALOGUE = ",".join(catalogue.CATALOGUE_COLUMNS)
CATALOGUE_CSV = f"""{CATALOGUE}
XJ01CAA040A001010100001,阿莫西林胶囊 0.25g×24粒,A,0,12.50,1,drug,1
XC08CAN011B001010100004,硝苯地平控释片 30mg×7片,B,0.10,33.20,1,drug,1
"""
HOSPITAL = "H34010000001"
AMOXICILLIN = "XJ01CAA040A001010100001"
NIFEDIPINE = "XC08CAN011B001010100004"
OUTPATIENT = MedType.OUTPATIENT.value


@pytest.fixture
def world(ctx: Context) -> str:
    """The institutions and the catalogue imported, and a key issued to the hospital."""
    run(ctx, lambda uow: institutions.import_institutions(ctx, uow, INSTITUTIONS_CSV))
    run(ctx, lambda uow: catalogue.import_catalogue(ctx, uow, CATALOGUE_CSV))
    issued = run(ctx, lambda uow: institutions.issue_credentials(ctx, uow, HOSPITAL))
    return issued.key_id


def settling_reads(ctx: Context, key_id: str) -> tuple[str, bool, Decimal]:
    """What a settlement reads of the reference tables, in one transaction: the institution's
    status, whether the key is live, the self-pay ratio of nifedipine."""

    def work(uow: UnitOfWork) -> tuple[str, bool, Decimal]:
        found = institutions.check_can_settle(ctx, uow, HOSPITAL, OUTPATIENT)
        live = institutions.live_credential(ctx, uow, key_id) is not None
        items = catalogue.load_items(ctx, uow, [AMOXICILLIN, NIFEDIPINE])
        return found.status.value, live, items[NIFEDIPINE].selfpay_prop

    return run(ctx, work)


def by_hand(ctx: Context, statement: str, **params: Any) -> None:
    """A statement typed by an operator at the database's prompt, past gongji."""
    with ctx.engine.begin() as connection:
        connection.execute(text(statement), params)


@pytest.fixture
def repository_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The reference rows read from the database (not from memory), by kind."""
    reads: list[str] = []

    def counted(kind: str, read: Callable[..., Any]) -> Callable[..., Any]:
        def reading(*args: Any) -> Any:
            reads.append(kind)
            return read(*args)

        return reading

    for module, name in (
        (institutions_repo, "institution_stamped"),
        (institutions_repo, "credential_stamped"),
        (catalogue_repo, "items_stamped"),
    ):
        monkeypatch.setattr(module, name, counted(name, getattr(module, name)))
    return reads


def test_rows_are_read_once_then_kept(
    ctx: Context, world: str, repository_reads: list[str]
) -> None:
    assert settling_reads(ctx, world) == ("active", True, Decimal("0.10"))
    assert repository_reads == ["institution_stamped", "credential_stamped", "items_stamped"]
    assert len(ctx.reference_rows) == 4
    for _ in range(3):
        assert settling_reads(ctx, world) == ("active", True, Decimal("0.10"))
    assert len(repository_reads) == 3  # the three later transactions read the generation only


def test_a_change_through_gongji_is_seen_at_once(ctx: Context, world: str) -> None:
    settling_reads(ctx, world)
    run(ctx, lambda uow: institutions.revoke_credentials(ctx, uow, world))
    assert settling_reads(ctx, world) == ("active", False, Decimal("0.10"))
    changed = CATALOGUE_CSV.replace("B,0.10,33.20", "B,0.20,33.20")
    run(ctx, lambda uow: catalogue.import_catalogue(ctx, uow, changed))
    assert settling_reads(ctx, world)[2] == Decimal("0.20")


def test_a_hand_typed_change_is_seen_at_once(ctx: Context, world: str) -> None:
    settling_reads(ctx, world)
    by_hand(ctx, "UPDATE catalogue_items SET selfpay_prop = '0.30' WHERE code = :c", c=NIFEDIPINE)
    assert settling_reads(ctx, world)[2] == Decimal("0.30")
    by_hand(ctx, "UPDATE institution_credentials SET revoked_at_us = 1 WHERE key_id = :k", k=world)
    assert settling_reads(ctx, world)[1] is False
    by_hand(ctx, "UPDATE institutions SET status = 'suspended' WHERE code = :c", c=HOSPITAL)
    with pytest.raises(InstitutionSuspended):
        settling_reads(ctx, world)


def test_a_change_by_another_process_is_seen_at_once(
    ctx: Context, world: str, clock: ManualClock
) -> None:
    other = build_context(ctx.engine, clock)  # another server process: its own kept rows
    settling_reads(ctx, world)
    settling_reads(other, world)
    run(other, lambda uow: institutions.revoke_credentials(other, uow, world))
    assert settling_reads(ctx, world)[1] is False


def test_rows_read_in_a_transaction_rolled_back_are_never_taken(ctx: Context, world: str) -> None:
    settling_reads(ctx, world)

    class Undone(Exception):
        pass

    def suspended_then_undone(uow: UnitOfWork) -> None:
        uow.connection.execute(
            text("UPDATE institutions SET status = 'suspended' WHERE code = :c"), {"c": HOSPITAL}
        )
        with pytest.raises(InstitutionSuspended):  # read inside the changing transaction
            institutions.check_can_settle(ctx, uow, HOSPITAL, OUTPATIENT)
        raise Undone

    with pytest.raises(Undone):
        run(ctx, suspended_then_undone)
    assert settling_reads(ctx, world)[0] == "active"


def test_an_unknown_key_is_not_kept(ctx: Context, world: str) -> None:
    def live(key_id: str) -> bool:
        return run(ctx, lambda uow: institutions.live_credential(ctx, uow, key_id)) is not None

    assert not live(f"{HOSPITAL}.0000000000000000")
    assert len(ctx.reference_rows) == 0


def test_kept_rows_are_forgotten_all_at_once_past_their_bound() -> None:
    kept = KeptRows(rows_max=2)
    kept.keep("item", "a", 7, "A")
    kept.keep("item", "b", 7, "B")
    assert kept.under("item", "a", 7) == "A"
    assert kept.under("item", "a", 8) is None  # another generation: not this row
    kept.keep("item", "c", 7, "C")
    assert len(kept) == 1
    assert not kept.holds("item", "a")
    assert kept.under("item", "c", 7) == "C"
    kept.keep("item", "d", None, "D")  # read where the schema has no generation: not kept
    assert not kept.holds("item", "d")
