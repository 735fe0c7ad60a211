"""Operators' imports (docs/rules.md §3), the year-end rollover and the demo seed, on both databases
(the ``ctx`` fixture of conftest runs every test on SQLite and on PostgreSQL).

The files are under tests/data. The clock stands at 2026-03-02 10:00 in Asia/Shanghai, so the
open injection months are 2026-01 to 2026-03.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Table, func, select
from typer.testing import CliRunner

from gongji.core.clock import ManualClock
from gongji.core.errors import GongjiError
from gongji.jobs import rollover
from gongji.kernel import chart
from gongji.kernel.context import Actor, ActorKind, Context
from gongji.kernel.sms import LogSmsGateway
from gongji.ledger.check import check_ledger
from gongji.ledger.types import Transfer, TransferFlags
from gongji.mutual_aid.service import relationships
from gongji.people.service.imports import (
    ImportResult,
    import_injections,
    import_kinship,
    import_persons,
    import_regions,
    merge_stored_regions,
)
from gongji.people.store import people_repo
from gongji.sim import demo
from gongji.store.tables_people import kinship_records, persons
from gongji.store.uow import UnitOfWork, run_in_transaction

DATA = Path(__file__).parent.parent / "data"
JIANGUO, XIUYING, GUILAN, WEI = "P620100000101", "P620100000102", "P370100000101", "P440100000101"
Importer = Callable[[Context, UnitOfWork, str], ImportResult]


def load(
    ctx: Context, name: str, importer: Importer | None = None, text: str | None = None
) -> ImportResult:
    """Import a data file in one transaction, committed only when the file is clean."""
    content = text if text is not None else (DATA / name).read_text(encoding="utf-8")
    chosen = importer or _IMPORTERS[name.split("_")[0].removesuffix(".csv")]

    def work(uow: UnitOfWork) -> ImportResult:
        result = chosen(ctx, uow, content)
        if result.ok:
            uow.commit()
        return result

    return run_in_transaction(ctx.engine, work)


_IMPORTERS: dict[str, Importer] = {
    "persons": import_persons,
    "injections": import_injections,
    "kinship": lambda ctx, uow, text: import_kinship(ctx, uow, text, source="kinship.csv"),
    "regions": import_regions,
}


def codes(result: ImportResult) -> list[tuple[int, str]]:
    return [(error.line, error.code) for error in result.errors]


def count_rows(ctx: Context, table: Table) -> int:
    def work(uow: UnitOfWork) -> int:
        statement = select(func.count()).select_from(table)
        return int(uow.connection.execute(statement).scalar_one())

    return run_in_transaction(ctx.engine, work, read_only=True)


def balances(ctx: Context, region: str, psn_no: str) -> tuple[int, int]:
    """(this year's, earlier years') credit balance in fen."""
    current, earlier = (
        chart.personal_current(region, psn_no),
        chart.personal_earlier(region, psn_no),
    )
    found = ctx.ledger.lookup_accounts([current, earlier])
    return found[current].credit_balance, found[earlier].credit_balance


def footprint(ctx: Context) -> tuple[int, int, int]:
    return ctx.ledger.transfer_count(), count_rows(ctx, persons), count_rows(ctx, kinship_records)


# --- persons -------------------------------------------------------------------------------


def test_persons_are_registered_with_their_opening_balances(ctx: Context) -> None:
    result = load(ctx, "persons.csv")

    assert (result.ok, result.lines, result.created, result.unchanged) == (True, 4, 4, 0)
    assert balances(ctx, "620100", JIANGUO) == (180_000, 620_000)
    assert balances(ctx, "620100", XIUYING) == (0, 100_050)
    assert balances(ctx, "440100", WEI) == (60_000, 0)
    assert ctx.ledger.lookup_accounts([chart.personal_current("370100", GUILAN)]) == {}
    assert footprint(ctx) == (4, 4, 0)  # four opening transfers: zero amounts are not posted


def test_importing_the_same_persons_twice_changes_nothing(ctx: Context) -> None:
    load(ctx, "persons.csv")
    before = footprint(ctx)

    again = load(ctx, "persons.csv")

    assert (again.ok, again.created, again.unchanged) == (True, 0, 4)
    assert footprint(ctx) == before
    assert balances(ctx, "620100", JIANGUO) == (180_000, 620_000)


def test_every_bad_person_line_is_reported_with_its_line_and_nothing_is_written(
    ctx: Context,
) -> None:
    result = load(ctx, "persons_bad.csv")

    assert codes(result) == [
        (3, "psn_no_invalid"),
        (4, "id_number_check_digit"),
        (5, "region_unknown"),
        (6, "psn_no_duplicate"),
        (7, "id_number_duplicate"),
        (8, "amount_too_precise"),
        (9, "date_invalid"),
        (10, "resident_balance_not_zero"),
        (11, "insutype_unknown"),
        (12, "enrolment_status_unknown"),
        (13, "employment_unknown"),
        (14, "mobile_invalid"),
        (15, "name_invalid"),
        (16, "amount_negative"),
        (17, "amount_not_a_number"),
        (18, "csv_columns_invalid"),
        (19, "id_number_length"),
    ]
    assert (result.created, result.unchanged, result.lines) == (0, 0, 18)
    assert "第 2 行" in result.errors[3].message  # the duplicate names the line it repeats
    assert footprint(ctx) == (0, 0, 0)  # line 2 is fine, yet all or nothing


def test_a_header_that_is_not_the_persons_header_is_refused(ctx: Context) -> None:
    result = load(ctx, "persons.csv", text="psn_no,name\nP1,张三\n")

    assert codes(result) == [(1, "csv_header_invalid")]


def test_lines_that_contradict_the_database_are_refused(ctx: Context) -> None:
    load(ctx, "persons.csv")
    header, *lines = (DATA / "persons.csv").read_text(encoding="utf-8").splitlines()
    other_id = lines[0].replace("620102197504011017", "620102198512311313")
    other_balance = lines[1].replace(",0,1000.50", ",0,1000.00")
    same_id_new_number = lines[3].replace(WEI, "P440100000199")
    text = "\n".join([header, other_id, other_balance, same_id_new_number, lines[2]])

    result = load(ctx, "persons.csv", text=text)

    assert codes(result) == [
        (2, "person_exists_with_different_data"),
        (3, "opening_balance_conflict"),
        (4, "person_exists_with_different_data"),
    ]


def test_progress_is_reported_up_to_the_total(ctx: Context) -> None:
    seen: list[tuple[int, int]] = []
    text = (DATA / "persons.csv").read_text(encoding="utf-8")

    def work(uow: UnitOfWork) -> ImportResult:
        return import_persons(
            ctx, uow, text, progress=lambda done, total: seen.append((done, total))
        )

    run_in_transaction(ctx.engine, work)

    assert seen[0] == (0, 8) and seen[-1] == (8, 8)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


# --- injections ----------------------------------------------------------------------------


def test_injections_go_into_this_years_account_once(ctx: Context) -> None:
    load(ctx, "persons.csv")
    transfers_before = ctx.ledger.transfer_count()

    first = load(ctx, "injections.csv")
    again = load(ctx, "injections.csv")

    assert (first.created, first.unchanged) == (4, 0)
    assert (again.ok, again.created, again.unchanged) == (True, 0, 4)
    assert ctx.ledger.transfer_count() == transfers_before + 4
    assert balances(ctx, "620100", JIANGUO) == (180_000 + 2 * 21_540, 620_000)
    recorded = ctx.ledger.lookup_transfers([f"inj:620100:{JIANGUO}:2026-01"])
    assert recorded[f"inj:620100:{JIANGUO}:2026-01"].code == chart.TransferCode.INJECTION


def test_every_bad_injection_line_is_reported_and_nothing_is_posted(ctx: Context) -> None:
    load(ctx, "persons.csv")
    before = ctx.ledger.transfer_count()

    result = load(ctx, "injections_bad.csv")

    assert codes(result) == [
        (2, "injection_month_invalid"),
        (3, "injection_month_future"),
        (4, "injection_month_closed_year"),
        (5, "amount_zero"),
        (7, "injection_duplicate"),
        (8, "person_unknown"),
        (9, "injection_no_employee_enrolment"),
        (10, "psn_no_invalid"),
        (11, "amount_negative"),
    ]
    assert ctx.ledger.transfer_count() == before


def test_the_same_month_with_another_amount_is_a_conflict(ctx: Context) -> None:
    load(ctx, "persons.csv")
    load(ctx, "injections.csv")
    text = "psn_no,month,amount\nP620100000101,2026-03,215.40\nP620100000101,2026-02,215.41\n"

    result = load(ctx, "injections.csv", text=text)

    assert codes(result) == [(3, "injection_conflict")]
    assert "215.40" in result.errors[0].message and "215.41" in result.errors[0].message
    assert ctx.ledger.lookup_transfers([f"inj:620100:{JIANGUO}:2026-03"]) == {}


# --- kinship registry ----------------------------------------------------------------------


def test_kinship_records_make_relationships_verify_by_themselves(ctx: Context) -> None:
    load(ctx, "persons.csv")

    first = load(ctx, "kinship.csv")
    again = load(ctx, "kinship.csv")

    assert (first.created, again.created, again.unchanged) == (3, 0, 3)
    assert count_rows(ctx, kinship_records) == 3
    actor = Actor(ActorKind.PERSON, JIANGUO)

    def propose(uow: UnitOfWork) -> str:
        mother = relationships.propose(ctx, uow, actor, "370102195001203024", "王桂兰", "parent")
        return mother.verification

    assert run_in_transaction(ctx.engine, propose) == "registry"


def test_kinship_records_are_stored_as_keyed_hashes_with_their_source(ctx: Context) -> None:
    load(ctx, "kinship.csv")

    def work(uow: UnitOfWork) -> list[tuple[str, str, str]]:
        rows = uow.connection.execute(select(kinship_records)).mappings().all()
        return [(row["person_hash"], row["kind"], row["source"]) for row in rows]

    stored = run_in_transaction(ctx.engine, work, read_only=True)
    person_hash = ctx.vault.lookup_hash("620102197504011017", context="id_number")
    assert sorted(stored) == [
        (person_hash, "child", "kinship.csv"),
        (person_hash, "parent", "kinship.csv"),
        (person_hash, "spouse", "kinship.csv"),
    ]


def test_bad_kinship_lines_are_reported(ctx: Context) -> None:
    result = load(ctx, "kinship_bad.csv")

    assert codes(result) == [
        (2, "kinship_kind_unknown"),
        (3, "kinship_with_self"),
        (4, "id_number_check_digit"),
    ]
    assert count_rows(ctx, kinship_records) == 0


# --- regions -------------------------------------------------------------------------------


def test_imported_regions_are_stored_used_at_once_and_merged_at_start(
    ctx: Context, clock: ManualClock
) -> None:
    result = load(ctx, "regions.csv")
    again = load(ctx, "regions.csv")

    assert (result.created, again.created, again.unchanged) == (3, 0, 3)
    assert ctx.regions["620200"].name == "嘉峪关市"
    fresh = Context(ctx.engine, clock, ctx.ledger, ctx.vault, ctx.policies, {}, LogSmsGateway())
    assert merge_stored_regions(fresh) == 3 and "620102" in fresh.regions
    text = "psn_no,id_number,name,mobile,insutype,region,status,employment,start_date,"
    text += "balance_current,balance_earlier\n"
    text += "P620200000001,620102198512311313,钱进,,310,620200,1,employed,2024-01-01,1.00,0\n"
    assert load(ctx, "persons.csv", text=text).created == 1


def test_bad_region_lines_are_reported(ctx: Context) -> None:
    result = load(ctx, "regions_bad.csv")

    assert codes(result) == [
        (3, "region_code_invalid"),
        (4, "region_level_mismatch"),
        (5, "region_duplicate"),
        (6, "region_level_unknown"),
    ]
    assert "620200" not in ctx.regions


# --- rollover ------------------------------------------------------------------------------


def new_year(clock: ManualClock) -> None:
    clock.set(datetime(2026, 12, 31, 16, 0, tzinfo=UTC))  # 2027-01-01 00:00 in Shanghai


def test_the_rollover_moves_this_years_money_once(ctx: Context, clock: ManualClock) -> None:
    load(ctx, "persons.csv")
    load(ctx, "injections.csv")
    new_year(clock)

    moved = rollover.run_rollover(ctx, 2026)
    after = balances(ctx, "620100", JIANGUO), balances(ctx, "440100", WEI)
    count = ctx.ledger.transfer_count()
    again = rollover.run_rollover(ctx, 2026)

    assert (moved, again) == (3, 0)  # 李秀英 has 180.00 this year; 张伟 and 张建国 too
    assert after == ((0, 180_000 + 2 * 21_540 + 620_000), (0, 60_000 + 9_600))
    assert balances(ctx, "620100", XIUYING) == (0, 100_050 + 18_000)
    assert (balances(ctx, "620100", JIANGUO), balances(ctx, "440100", WEI)) == after
    assert ctx.ledger.transfer_count() == count
    assert check_ledger(ctx.engine).ok


def test_the_rollover_leaves_reserved_money_and_is_refused_out_of_its_year(
    ctx: Context, clock: ManualClock
) -> None:
    load(ctx, "persons.csv")
    current = chart.personal_current("620100", JIANGUO)
    reserve = Transfer(
        "test:reserve", current, chart.injection_source("620100"), 50_000, chart.LEDGER_CNY,
        chart.TransferCode.GRANT_OFFER, flags=TransferFlags.PENDING,
    )  # fmt: skip
    ctx.ledger.create_transfers([reserve])
    with pytest.raises(GongjiError) as early:
        rollover.run_rollover(ctx, 2026)
    assert early.value.code == "rollover_year_not_ended"
    new_year(clock)
    with pytest.raises(GongjiError) as late:
        rollover.run_rollover(ctx, 2025)
    assert late.value.code == "rollover_year_past"

    rollover.run_rollover(ctx, 2026)

    assert balances(ctx, "620100", JIANGUO) == (50_000, 620_000 + 130_000)


def test_a_rollover_killed_between_batches_finishes_on_rerun(
    ctx: Context, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(ctx, "persons.csv")
    new_year(clock)
    monkeypatch.setattr(rollover, "BATCH_SIZE_MAX", 1)
    real_batch = rollover.roll_over_batch
    calls = 0

    def dies_after_two(*args: object) -> tuple[int, str | None]:
        nonlocal calls
        calls += 1
        if calls > 2:
            raise KeyboardInterrupt  # a kill: the batches before it are committed
        return real_batch(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(rollover, "roll_over_batch", dies_after_two)
    with pytest.raises(KeyboardInterrupt):
        rollover.run_rollover(ctx, 2026)
    monkeypatch.setattr(rollover, "roll_over_batch", real_batch)

    rest = rollover.run_rollover(ctx, 2026)

    moved_first = ctx.ledger.lookup_transfers(
        [f"roll:2026:{region}:{psn}" for region, psn in (("440100", WEI), ("620100", JIANGUO))]
    )
    assert len(moved_first) + rest == 2  # 张建国 and 张伟 have this year's money, 李秀英 none
    assert balances(ctx, "620100", JIANGUO) == (0, 800_000)
    assert balances(ctx, "440100", WEI) == (0, 60_000)


# --- demo ----------------------------------------------------------------------------------


def test_seeding_the_demo_twice_changes_nothing(ctx: Context) -> None:
    first = demo.seed(ctx)
    counts = footprint(ctx)
    second = demo.seed(ctx)

    assert (first.persons.created, first.kinship.created) == (5, 3)
    assert (second.created, second.persons.unchanged, second.kinship.unchanged) == (0, 5, 3)
    assert footprint(ctx) == counts
    assert demo.seed_if_empty(ctx) is None
    head = demo.HEAD
    assert balances(ctx, head.region, head.psn_no) == (180_000, 620_000)
    assert all(len(item.code) == 12 for item in demo.DEMO_INSTITUTIONS)


def test_the_demo_registry_knows_the_family_but_not_the_sister(ctx: Context) -> None:
    demo.seed_if_empty(ctx)
    head = Actor(ActorKind.PERSON, demo.HEAD.psn_no)
    by_role = {person.role: person for person in demo.DEMO_PEOPLE}

    def verification(role: str, kind: str) -> str:
        person = by_role[role]

        def work(uow: UnitOfWork) -> str:
            found = relationships.propose(ctx, uow, head, person.id_number, person.name, kind)
            return found.verification

        return run_in_transaction(ctx.engine, work)  # not committed: each proposal stands alone

    assert verification("母亲", "parent") == "registry"
    assert verification("儿子", "child") == "registry"
    assert verification("配偶", "spouse") == "registry"
    assert verification("妹妹", "sibling") == "none"


# --- command line --------------------------------------------------------------------------


def test_the_import_command_prints_each_error_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gongji.cli.main import app

    monkeypatch.setenv("GONGJI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("GONGJI_DATABASE_URL", raising=False)
    runner = CliRunner()

    refused = runner.invoke(app, ["import", "persons", str(DATA / "persons_bad.csv")])
    accepted = runner.invoke(app, ["import", "persons", str(DATA / "persons.csv")])
    repeated = runner.invoke(app, ["import", "persons", str(DATA / "persons.csv")])

    assert refused.exit_code == 2
    assert "line 4: id_number_check_digit: " in refused.output
    assert "nothing was written" in refused.output
    assert accepted.exit_code == 0, accepted.output
    assert "4 lines, 4 created, 0 unchanged" in accepted.output
    assert "0 created, 4 unchanged" in repeated.output


def test_people_repo_sees_the_imported_enrolments(ctx: Context) -> None:
    load(ctx, "persons.csv")

    def work(uow: UnitOfWork) -> list[str]:
        found = people_repo.current_enrolment(uow.connection, GUILAN)
        return [found.insutype, found.region, found.employment] if found else []

    assert run_in_transaction(ctx.engine, work, read_only=True) == ["390", "370100", "retired"]
