"""Designated institutions, the catalogue and the benefit tables, on SQLite and PostgreSQL.

Imports are checked whole (every bad line reported with its line number, the header being line
1), written all or nothing, and idempotent; a changed line updates its row. The clock stands at
2026-03-02 10:00 in Asia/Shanghai.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Table, func, select
from typer.testing import CliRunner

from gongji.core.clock import ManualClock
from gongji.core.errors import GongjiError
from gongji.core.policy import parse_policy_toml
from gongji.institutions.domain.institutions import (
    Institution,
    InstitutionKind,
    InstitutionLevel,
    InstitutionStatus,
    MedType,
)
from gongji.institutions.service import institutions
from gongji.kernel.context import SYSTEM, Context, Role
from gongji.kernel.upsert_import import UpsertResult
from gongji.settlement.domain.benefits import BenefitRule, Employment, hefei_example_table
from gongji.settlement.domain.items import ItemCategory, ItemClass
from gongji.settlement.service import benefits, catalogue
from gongji.store.tables_institutions import catalogue_items
from gongji.store.tables_institutions import institutions as institutions_table
from gongji.store.uow import UnitOfWork, run_in_transaction
from support.world import operator, person_actor, run

INSTITUTIONS_CSV = """code,name,region,kind,level,supports_wallet,status
H34010000001,合肥市示范第一人民医院,340100,hospital,tertiary,1,active
H34010000002,合肥市示范社区卫生服务中心,340100,hospital,primary,1,active
P34010000001,合肥市示范大药房,340100,pharmacy,none,1,active
P62010000001,兰州市示范药店,620100,pharmacy,none,0,suspended
"""

INSTITUTIONS_BAD_CSV = """code,name,region,kind,level,supports_wallet,status
h34010000001,小写编码医院,340100,hospital,tertiary,1,active
H34010000002,,340100,hospital,primary,1,active
P34010000001,等级错误的药房,340100,pharmacy,tertiary,1,active
H34010000003,未知区划医院,349900,hospital,secondary,1,active
H34010000004,种类错误,340100,clinic,none,1,active
H34010000005,正常医院,340100,hospital,secondary,1,active
H34010000005,重复医院,340100,hospital,secondary,1,active
H34010000006,状态错误,340100,hospital,secondary,yes,closed
"""

CATALOGUE_HEADER = ",".join(catalogue.CATALOGUE_COLUMNS)
CATALOGUE_CSV = f"""{CATALOGUE_HEADER}
XJ01CAA040A001010100001,阿莫西林胶囊 0.25g×24粒,A,0,12.50,1,drug,1
XC08CAN011B001010100004,硝苯地平控释片 30mg×7片,B,0.10,33.20,1,drug,1
WS0000000000000000026,蛋白粉（营养保健品）,C,1,,0,wellness,0
"""

CATALOGUE_BAD_CSV = f"""{CATALOGUE_HEADER}
X 1,空格编码,A,0,1.00,1,drug,1
X2,甲类自付,A,0.10,1.00,1,drug,1
X3,等级错误,D,0,1.00,1,drug,1
X4,比例超限,B,1.5,1.00,1,drug,1
X5,限价三位小数,B,0.1,1.005,1,drug,1
X6,保健品在目录内,C,1,,0,wellness,1
X7,正常,B,0.1,2.00,1,drug,1
X7,重复,B,0.1,2.00,1,drug,1
X8,类别错误,B,0.1,2.00,1,toy,1
X9,列数不对,B,0.1
"""


def count(ctx: Context, table: Table) -> int:
    with ctx.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def load(
    ctx: Context, importer: Callable[[Context, UnitOfWork, str], UpsertResult], text: str
) -> UpsertResult:
    """One file, one transaction, committed only when the file is clean."""

    def work(uow: UnitOfWork) -> UpsertResult:
        result = importer(ctx, uow, text)
        if result.ok:
            uow.commit()
        return result

    return run_in_transaction(ctx.engine, work)


def refused(work: Callable[[UnitOfWork], object], ctx: Context) -> str:
    with pytest.raises(GongjiError) as caught:
        run(ctx, work)
    return caught.value.code


# --- institutions ---------------------------------------------------------------------------


def test_institutions_import_and_again_unchanged(ctx: Context) -> None:
    first = load(ctx, institutions.import_institutions, INSTITUTIONS_CSV)
    again = load(ctx, institutions.import_institutions, INSTITUTIONS_CSV)
    assert (first.ok, first.lines, first.created, first.updated) == (True, 4, 4, 0)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    found = run(ctx, lambda uow: institutions.get_institution(ctx, uow, "P34010000001"))
    assert found.institution == Institution(
        "P34010000001", "合肥市示范大药房", "340100", InstitutionKind.PHARMACY,
        InstitutionLevel.NONE, True, InstitutionStatus.ACTIVE,
    )  # fmt: skip


def test_institutions_changed_line_updates_the_row(ctx: Context, clock: ManualClock) -> None:
    load(ctx, institutions.import_institutions, INSTITUTIONS_CSV)
    before = run(ctx, lambda uow: institutions.get_institution(ctx, uow, "H34010000001"))
    clock.advance(timedelta(days=1))
    changed = INSTITUTIONS_CSV.replace("tertiary,1,active", "tertiary,1,suspended")
    result = load(ctx, institutions.import_institutions, changed)
    after = run(ctx, lambda uow: institutions.get_institution(ctx, uow, "H34010000001"))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 3)
    assert after.status is InstitutionStatus.SUSPENDED
    assert after.created_at_us == before.created_at_us < after.updated_at_us


def test_institutions_bad_file_reports_every_line_and_writes_nothing(ctx: Context) -> None:
    result = load(ctx, institutions.import_institutions, INSTITUTIONS_BAD_CSV)
    assert [(e.line, e.code) for e in result.errors] == [
        (2, "institution_code_invalid"),
        (3, "institution_field_invalid"),
        (4, "institution_field_invalid"),
        (5, "region_unknown"),
        (6, "institution_field_invalid"),
        (8, "institution_code_duplicate"),
        (9, "institution_field_invalid"),
    ]
    assert "第 7 行" in result.errors[5].message
    assert count(ctx, institutions_table) == 0  # line 7 was fine, yet nothing is written


def test_register_by_an_operator_and_refused_to_a_person(ctx: Context) -> None:
    value = Institution(
        "H62010000001", "兰州市示范第一人民医院", "620100", InstitutionKind.HOSPITAL,
        InstitutionLevel.TERTIARY, True, InstitutionStatus.ACTIVE,
    )  # fmt: skip
    clerk = operator(Role.CLERK)
    record = run(ctx, lambda uow: institutions.register_institution(ctx, uow, clerk, value))
    assert record.institution == value
    person = person_actor("P1")
    assert (
        refused(lambda uow: institutions.register_institution(ctx, uow, person, value), ctx)
        == "forbidden"
    )
    elsewhere = dataclasses.replace(value, region="629900")
    assert (
        refused(lambda uow: institutions.register_institution(ctx, uow, SYSTEM, elsewhere), ctx)
        == "region_unknown"
    )


@pytest.mark.parametrize(
    ("code", "med_type", "expected"),
    [
        ("H34010000001", MedType.OUTPATIENT, None),
        ("H34010000001", MedType.OUTPATIENT_CHRONIC, None),
        ("H34010000002", MedType.INPATIENT, None),
        ("H34010000001", MedType.PHARMACY, "med_type_not_allowed"),
        ("P34010000001", MedType.PHARMACY, None),
        ("P34010000001", MedType.OUTPATIENT, "med_type_not_allowed"),
        ("P34010000001", "99", "med_type_not_allowed"),
        ("P62010000001", MedType.PHARMACY, "institution_suspended"),
        ("H34019999999", MedType.OUTPATIENT, "institution_unknown"),
        ("H3401", MedType.OUTPATIENT, "institution_code_invalid"),
    ],
)
def test_who_may_settle_what(ctx: Context, code: str, med_type: str, expected: str | None) -> None:
    load(ctx, institutions.import_institutions, INSTITUTIONS_CSV)

    def check(uow: UnitOfWork) -> object:
        return institutions.check_can_settle(ctx, uow, code, med_type)

    if expected is None:
        assert run(ctx, check).code == code  # type: ignore[attr-defined]
    else:
        assert refused(check, ctx) == expected


def test_credentials_are_shown_once_stored_encrypted_and_refused_when_suspended(
    ctx: Context,
) -> None:
    load(ctx, institutions.import_institutions, INSTITUTIONS_CSV)
    issued = run(ctx, lambda uow: institutions.issue_credentials(ctx, uow, "H34010000001"))
    key_id, secret = issued
    assert key_id.startswith("H34010000001.") and len(secret) >= 43
    with ctx.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT secret_enc FROM institution_credentials")
        (secret_enc,) = stored.one()
    assert secret not in secret_enc
    keys = run(ctx, lambda uow: institutions.credentials_of(ctx, uow, "H34010000001"))
    assert keys == {key_id: True}
    assert (
        refused(lambda uow: institutions.issue_credentials(ctx, uow, "P62010000001"), ctx)
        == "institution_suspended"
    )
    assert (
        refused(lambda uow: institutions.revoke_credentials(ctx, uow, "nope"), ctx)
        == "credential_unknown"
    )


def test_list_institutions_pages_by_code(ctx: Context) -> None:
    load(ctx, institutions.import_institutions, INSTITUTIONS_CSV)
    first = run(ctx, lambda uow: institutions.list_institutions(ctx, uow, limit=2))
    rest = run(
        ctx, lambda uow: institutions.list_institutions(ctx, uow, after=first[-1].code, limit=2)
    )
    in_hefei = run(ctx, lambda uow: institutions.list_institutions(ctx, uow, region="340100"))
    assert [r.code for r in first + rest] == [
        "H34010000001", "H34010000002", "P34010000001", "P62010000001",
    ]  # fmt: skip
    assert [r.code for r in in_hefei] == ["H34010000001", "H34010000002", "P34010000001"]


# --- catalogue ------------------------------------------------------------------------------


def test_catalogue_import_is_idempotent_and_loads_domain_items(ctx: Context) -> None:
    first = load(ctx, catalogue.import_catalogue, CATALOGUE_CSV)
    again = load(ctx, catalogue.import_catalogue, CATALOGUE_CSV)
    assert (first.created, again.unchanged, again.updated) == (3, 3, 0)
    items = run(
        ctx,
        lambda uow: catalogue.load_items(
            ctx, uow, ["XC08CAN011B001010100004", "WS0000000000000000026"]
        ),
    )
    nifedipine = items["XC08CAN011B001010100004"]
    assert nifedipine.item_class is ItemClass.B
    assert str(nifedipine.selfpay_prop) == "0.10" and nifedipine.price_ceiling_fen == 3320
    wellness = items["WS0000000000000000026"]
    assert wellness.category is ItemCategory.WELLNESS
    assert not wellness.account_eligible and wellness.wholly_self_paid
    assert wellness.price_ceiling_fen is None


def test_catalogue_price_change_updates_the_item(ctx: Context, clock: ManualClock) -> None:
    load(ctx, catalogue.import_catalogue, CATALOGUE_CSV)
    code = "XJ01CAA040A001010100001"
    before = run(ctx, lambda uow: catalogue.get_item(ctx, uow, code))
    clock.advance(timedelta(days=30))
    result = load(ctx, catalogue.import_catalogue, CATALOGUE_CSV.replace("12.50", "11.80"))
    after = run(ctx, lambda uow: catalogue.get_item(ctx, uow, code))
    assert (result.updated, result.unchanged) == (1, 2)
    assert (before.item.price_ceiling_fen, after.item.price_ceiling_fen) == (1250, 1180)
    assert after.updated_at_us > before.updated_at_us


def test_catalogue_bad_file_reports_every_line_and_writes_nothing(ctx: Context) -> None:
    result = load(ctx, catalogue.import_catalogue, CATALOGUE_BAD_CSV)
    assert [(e.line, e.code) for e in result.errors] == [
        (2, "catalogue_code_invalid"),
        (3, "catalogue_field_invalid"),
        (4, "catalogue_field_invalid"),
        (5, "catalogue_field_invalid"),
        (6, "amount_too_precise"),
        (7, "catalogue_field_invalid"),
        (9, "catalogue_code_duplicate"),
        (10, "catalogue_field_invalid"),
        (11, "csv_columns_invalid"),
    ]
    assert result.lines == 10
    assert count(ctx, catalogue_items) == 0


def test_catalogue_wrong_header_is_line_1(ctx: Context) -> None:
    result = load(ctx, catalogue.import_catalogue, "code,name\nX1,a\n")
    assert [(e.line, e.code) for e in result.errors] == [(1, "csv_header_invalid")]


def test_unknown_items_are_listed_together(ctx: Context) -> None:
    load(ctx, catalogue.import_catalogue, CATALOGUE_CSV)
    with pytest.raises(catalogue.ItemUnknown) as caught:
        run(
            ctx,
            lambda uow: catalogue.load_items(
                ctx, uow, ["ZZZ2", "XJ01CAA040A001010100001", "ZZZ1", "ZZZ2"]
            ),
        )
    assert caught.value.code == "item_unknown"
    assert caught.value.detail["codes"] == ["ZZZ1", "ZZZ2"]
    assert "ZZZ1, ZZZ2" in caught.value.message()


def test_demo_catalogue_loads_without_errors_twice(ctx: Context) -> None:
    first = run(ctx, lambda uow: catalogue.seed_catalogue(ctx, uow))
    again = run(ctx, lambda uow: catalogue.seed_catalogue(ctx, uow))
    assert first.ok and first.created == first.lines >= 25
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.lines)
    codes = ["001101000010000", "FT0000000000000000027", "PH0000000000000000028"]
    items = run(ctx, lambda uow: catalogue.load_items(ctx, uow, codes))
    assert items["001101000010000"].category is ItemCategory.SERVICE
    assert not items["FT0000000000000000027"].account_eligible
    assert not items["PH0000000000000000028"].account_eligible


# --- benefit tables -------------------------------------------------------------------------

HEFEI, HEFEI_DISTRICT, ANHUI, LANZHOU = "340100", "340102", "340000", "620100"
TODAY = date(2026, 3, 2)
NATIONAL_OUTPATIENT = BenefitRule(50_000, Decimal("0.50"), 300_000, pool="outpatient")


def rule(
    ctx: Context,
    region: str,
    *,
    on: date = TODAY,
    med_type: str = "11",
    level: InstitutionLevel = InstitutionLevel.PRIMARY,
    employment: Employment = Employment.RETIRED,
) -> BenefitRule:
    return benefits.benefit_rule(ctx, region, on, "310", med_type, level, employment)


def test_hefei_resolves_to_the_worked_example(ctx: Context) -> None:
    example = hefei_example_table()
    for level in (InstitutionLevel.PRIMARY, InstitutionLevel.SECONDARY, InstitutionLevel.TERTIARY):
        for employment in Employment:
            expected = example.lookup("310", "11", level, employment)
            assert rule(ctx, HEFEI, level=level, employment=employment) == expected
            assert rule(ctx, HEFEI_DISTRICT, level=level, employment=employment) == expected
    assert (
        rule(ctx, HEFEI).ratio
        == example.lookup("310", "11", InstitutionLevel.PRIMARY, Employment.RETIRED).ratio
    )
    found = benefits.governing_table(ctx, HEFEI, TODAY, "310", "11")
    assert found is not None and found.provenance == "340100 from 2023-01-01"


def test_other_regions_dates_and_categories_fall_back_to_national(ctx: Context) -> None:
    assert rule(ctx, LANZHOU) == NATIONAL_OUTPATIENT
    assert rule(ctx, ANHUI) == NATIONAL_OUTPATIENT  # the province is not the city
    assert rule(ctx, HEFEI, on=date(2022, 12, 31)) == NATIONAL_OUTPATIENT  # before the example
    assert rule(ctx, HEFEI, med_type="21").deductible_fen == 100_000  # only 310 × 11 is Hefei's
    # a pharmacy (level none) in Hefei: 310 × 41 has no Hefei table
    assert rule(ctx, HEFEI, med_type="41", level=InstitutionLevel.NONE) == NATIONAL_OUTPATIENT


def test_benefit_table_of_a_region(ctx: Context) -> None:
    national = benefits.benefit_table(ctx)
    hefei = benefits.benefit_table(ctx, HEFEI, TODAY)
    assert len(national.entries) == 8  # 310/390 × 11/14/21/41, wildcard level and employment
    assert set(hefei_example_table().entries) <= set(hefei.entries)
    assert len(hefei.entries) == 7 + 6  # the other seven national tables, and Hefei's six cells


def test_a_bureau_file_overrides_by_region_and_date(ctx: Context) -> None:
    bureau = parse_policy_toml(
        """
[[benefits]]
region = "340000"
effective_from = 2026-01-01
insutype = "310"
med_type = "21"
deductible_fen = 70000
ratio = "0.90"
annual_cap_fen = 30000000

[[benefits]]
region = "340100"
effective_from = 2026-03-01
insutype = "310"
med_type = "11"
level = "*"
deductible_fen = 30000
ratio = "0.55"
annual_cap_fen = 450000
""",
        "bureau.toml",
    )
    local = dataclasses.replace(ctx, policies=ctx.policies.merged_with(bureau))
    assert rule(local, HEFEI, med_type="21").ratio == Decimal("0.90")
    assert rule(local, HEFEI, on=date(2025, 12, 31), med_type="21").deductible_fen == 100_000
    assert rule(local, HEFEI).deductible_fen == 30_000  # the 2026 table replaces 2023's whole
    assert rule(local, HEFEI, on=date(2026, 2, 28)).deductible_fen == 20_000


def test_no_benefits_configured_means_every_lookup_is_refused(ctx: Context) -> None:
    empty = dataclasses.replace(ctx, policies=dataclasses.replace(ctx.policies, raw_benefits=()))
    assert benefits.benefit_table(empty).entries == ()
    with pytest.raises(GongjiError) as caught:
        rule(empty, HEFEI)
    assert caught.value.code == "benefit_rule_missing"


def test_bad_benefit_entries_are_refused_with_their_index(ctx: Context) -> None:
    bad = parse_policy_toml(
        """
[[benefits]]
region = "340102"
insutype = "310"
med_type = "11"
deductible_fen = 0
ratio = "0.5"
annual_cap_fen = 0

[[benefits]]
effective_from = "someday"
insutype = "310"
med_type = "11"
deductible_fen = 0
ratio = 0.5
annual_cap_fen = 0
""",
        "bad.toml",
    )
    broken = dataclasses.replace(ctx, policies=bad)
    with pytest.raises(GongjiError) as caught:
        benefits.benefit_table(broken)
    assert caught.value.code == "benefit_value_invalid"
    assert caught.value.detail["field"] == "region" and caught.value.detail["entry"] == 0
    assert len(caught.value.detail["problems"]) == 2


# --- the command line (SQLite) --------------------------------------------------------------


def test_cli_imports_issues_credentials_and_shows_an_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gongji.cli.main import app

    monkeypatch.setenv("GONGJI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("GONGJI_DATABASE_URL", raising=False)
    (tmp_path / "institutions.csv").write_text(INSTITUTIONS_CSV, encoding="utf-8")
    (tmp_path / "bad.csv").write_text(CATALOGUE_BAD_CSV, encoding="utf-8")
    (tmp_path / "catalogue.csv").write_text(CATALOGUE_CSV, encoding="utf-8")
    runner = CliRunner()

    imported = runner.invoke(app, ["institutions", "import", str(tmp_path / "institutions.csv")])
    issued = runner.invoke(app, ["institutions", "credentials", "H34010000001"])
    bad = runner.invoke(app, ["catalogue", "import", str(tmp_path / "bad.csv")])
    good = runner.invoke(app, ["catalogue", "import", str(tmp_path / "catalogue.csv")])
    shown = runner.invoke(app, ["catalogue", "show", "XC08CAN011B001010100004"])
    missing = runner.invoke(app, ["catalogue", "show", "NOPE"])
    listed = runner.invoke(app, ["institutions", "list", "--region", "340100"])

    assert imported.exit_code == 0, imported.output
    assert "4 created" in imported.output
    assert issued.exit_code == 0 and "key id: H34010000001." in issued.output
    assert "secret: " in issued.output
    assert bad.exit_code == 2 and "line 6: amount_too_precise" in bad.output
    assert good.exit_code == 0 and "3 created" in good.output
    assert shown.exit_code == 0 and "33.20" in shown.output and "0.10" in shown.output
    assert missing.exit_code == 2 and "item_unknown" in missing.output
    assert listed.exit_code == 0 and "P34010000001" in listed.output
    key_id = issued.output.split("key id: ", 1)[1].split()[0]
    revoked = runner.invoke(app, ["institutions", "revoke", key_id])
    assert revoked.exit_code == 0, revoked.output
