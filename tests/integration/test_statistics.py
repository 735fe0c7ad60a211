"""Statistics equal the figures recomputed from the rows of record, on generated populations
(a property test on SQLite and PostgreSQL), also after grants change state and settlements are
reversed between two refreshes; a refresh run twice changes nothing.

The population is written straight into the tables (grants in every state, shared draws of
settlements, wallets, relationships, premiums for others) so that many shapes are tried quickly;
the services that write those rows in production have their own tests.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, insert, select, update

from gongji.backoffice.service import statistics
from gongji.backoffice.service.statistics import Amount
from gongji.core.clock import ManualClock
from gongji.kernel.context import BUSINESS_TZ, Context
from gongji.store.tables_clearing import premium_payments
from gongji.store.tables_people import grants, relationships, wallets
from gongji.store.tables_settlements import AMOUNT_COLUMNS, settlement_draws, settlements
from gongji.store.tables_stats import stats_state, stats_summary
from support.world import run

FIRST_DAY = date(2026, 3, 1)
REGIONS = ("620100", "370100", "440100", "620200")
STATES = ("offered", "active", "rejected", "expired", "closed")
KINDS = ("parent", "spouse", "child", "sibling")


def us(day: date, hour: int = 10) -> int:
    return int(datetime.combine(day, time(hour), tzinfo=BUSINESS_TZ).timestamp() * 1_000_000)


@dataclass(frozen=True)
class GrantGen:
    day: int
    region: str
    amount: int
    state: str


@dataclass(frozen=True)
class SpendGen:
    day: int
    contributor_region: str
    treatment_region: str
    amount: int
    pharmacy: bool
    med_type: str
    reversed: bool


@dataclass(frozen=True)
class PlainGen:  # a wallet, a relationship or a premium paid for someone else
    day: int
    region: str
    kind: str
    amount: int


grant_gen = st.builds(
    GrantGen,
    st.integers(0, 9),
    st.sampled_from(REGIONS),
    st.integers(1, 100_000),
    st.sampled_from(STATES),
)
spend_gen = st.builds(
    SpendGen,
    st.integers(0, 9),
    st.sampled_from(REGIONS),
    st.sampled_from(REGIONS),
    st.integers(1, 50_000),
    st.booleans(),
    st.sampled_from(("11", "14", "41")),
    st.booleans(),
)
plain_gen = st.builds(
    PlainGen,
    st.integers(0, 9),
    st.sampled_from(REGIONS),
    st.sampled_from(KINDS),
    st.integers(1, 40_000),
)


def _grant_row(i: int, g: GrantGen) -> dict[str, object]:
    day = FIRST_DAY + timedelta(days=g.day)
    accepted = g.state in ("active", "closed")
    return {
        "id": f"G{i:06d}",
        "relationship_id": "R1",
        "contributor": f"P{i:06d}",
        "recipient": f"Q{i:06d}",
        "contributor_region": g.region,
        "amount_fen": g.amount,
        "from_current_fen": g.amount,
        "from_earlier_fen": 0,
        "state": g.state,
        "business_date": day.isoformat(),
        "offered_at_us": us(day),
        "expires_at_us": us(day + timedelta(days=1), 6),
        "accepted_at_us": us(day, 11) if accepted else None,
        "closed_at_us": us(day, 12) if g.state in ("rejected", "expired", "closed") else None,
        "close_reason": None,
    }


def _settlement_rows(i: int, s: SpendGen) -> list[tuple[object, dict[str, object]]]:
    day = (FIRST_DAY + timedelta(days=s.day)).isoformat()
    setl = {
        "setl_id": f"S{i:06d}",
        "institution_code": ("P" if s.pharmacy else "H") + s.treatment_region + "00001",
        "request_id": f"r{i}",
        "request_hash": "h",
        "kind": "settlement",
        "reverses": None,
        "psn_no": f"Q{i:06d}",
        "insutype": "310",
        "insured_region": s.contributor_region,
        "treatment_region": s.treatment_region,
        "med_type": s.med_type,
        "benefit_pool": "outpatient",
        "business_date": day,
        "year": 2026,
        "created_at_us": us(FIRST_DAY + timedelta(days=s.day)),
        **{name: 0 for name in AMOUNT_COLUMNS},
    }
    draw = {
        "setl_id": f"S{i:06d}",
        "seq": 0,
        "kind": "grant",
        "source_id": f"G{i:06d}",
        "account_id": f"em:G{i:06d}",
        "contributor": f"P{i:06d}",
        "contributor_region": s.contributor_region,
        "amount_fen": s.amount,
        "business_date": day,
        "treatment_region": s.treatment_region,
    }
    return [(settlements, setl), (settlement_draws, draw)]


def _reversal(i: int, s: SpendGen, on: date) -> dict[str, object]:
    row = dict(_settlement_rows(i, s)[0][1])
    row |= {"setl_id": f"V{i:06d}", "request_id": f"v{i}", "kind": "reversal"}
    row |= {"reverses": f"S{i:06d}", "business_date": on.isoformat(), "created_at_us": us(on)}
    return row


def _plain_rows(i: int, p: PlainGen) -> list[tuple[object, dict[str, object]]]:
    at = us(FIRST_DAY + timedelta(days=p.day), 9)
    return [
        (
            wallets,
            {
                "psn_no": f"W{i:06d}",
                "status": "active",
                "place_of_use": p.region,
                "opened_by": f"W{i:06d}",
                "opened_at_us": at,
                "status_reason": None,
                "updated_at_us": at,
            },
        ),
        (
            relationships,
            {
                "id": f"R{i:06d}",
                "proposer": f"W{i:06d}",
                "relative": f"X{i:06d}",
                "kind": p.kind,
                "status": "active",
                "verification": "registry",
                "created_at_us": at,
                "updated_at_us": at,
                "end_reason": None,
            },
        ),
        (
            premium_payments,
            {
                "psn_no": f"X{i:06d}",
                "year": 2026,
                "kind": "resident",
                "payer": f"W{i:06d}",
                "source": "own_account",
                "region": p.region,
                "amount_fen": p.amount,
                "paid_at_us": at,
            },
        ),
    ]


def _write(engine: Engine, rows: list[tuple[object, dict[str, object]]]) -> None:
    with engine.begin() as connection:
        for table, values in rows:
            connection.execute(insert(table), [values])  # type: ignore[call-overload]


def _stored(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        statement = select(stats_summary).order_by(*stats_summary.primary_key.columns)
        return [tuple(row) for row in connection.execute(statement)]


def _clear(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in (stats_summary, stats_state, grants, settlement_draws, settlements):
            connection.execute(delete(table))
        for table in (wallets, relationships, premium_payments):
            connection.execute(delete(table))


def expected(
    grant_list: list[GrantGen], spends: dict[int, SpendGen], undone: set[int], plain: list[PlainGen]
) -> statistics.Figures:
    by_state: dict[str, Amount] = defaultdict(Amount)
    accepted, spent = Amount(), Amount()
    pairs: dict[tuple[str, str], Amount] = defaultdict(Amount)
    by_type: dict[str, Amount] = defaultdict(Amount)
    for g in grant_list:
        by_state[g.state] += Amount(1, g.amount)
        if g.state in ("active", "closed"):
            accepted += Amount(1, g.amount)
    for i, s in spends.items():
        if i in undone:
            continue
        spent += Amount(1, s.amount)
        pair = (statistics.province(s.contributor_region), statistics.province(s.treatment_region))
        pairs[pair] += Amount(1, s.amount)
        by_type[("P" if s.pharmacy else "H") + ":" + s.med_type] += Amount(1, s.amount)
    kinds: dict[str, int] = defaultdict(int)
    for p in plain:
        kinds[p.kind] += 1
    return statistics.Figures(
        first=FIRST_DAY,
        last=FIRST_DAY + timedelta(days=9),
        wallets_opened=len(plain),
        relationships=dict(kinds),
        grants=dict(by_state),
        accepted=accepted,
        spent=spent,
        premiums_for_others=Amount(len(plain), sum(p.amount for p in plain)),
        province_pairs=dict(pairs),
        spending_by_type=dict(by_type),
    )


SPANS = (  # days only; whole months; a whole year; years, months and days together
    (FIRST_DAY, FIRST_DAY + timedelta(days=9)),
    (date(2026, 2, 27), date(2026, 3, 31)),
    (date(2026, 1, 1), date(2026, 12, 31)),
    (date(2025, 11, 30), date(2027, 1, 2)),
)


def _compare(ctx: Context, want: statistics.Figures) -> None:
    for first, last in SPANS:
        _compare_span(ctx, want, first, last)


def _compare_span(ctx: Context, want: statistics.Figures, first: date, last: date) -> None:
    got = run(ctx, lambda uow: statistics.figures(uow, first, last))
    for name in (
        "wallets_opened",
        "relationships",
        "grants",
        "accepted",
        "spent",
        "premiums_for_others",
        "province_pairs",
        "spending_by_type",
    ):
        assert getattr(got, name) == getattr(want, name), (name, first, last)
    shared = run(ctx, lambda uow: statistics.series(uow, first, last))
    assert sum(p.shared_fen for p in shared) == want.accepted.fen
    assert sum(p.spent_fen for p in shared) == want.spent.fen
    # Month by month: every month the span touches, the generated days all in March 2026.
    months = run(ctx, lambda uow: statistics.month_series(uow, first, last))
    touched, month = [], first.replace(day=1)
    while month <= last:
        touched.append(month.isoformat()[:7])
        month = (month + timedelta(days=31)).replace(day=1)
    assert [m.month for m in months] == touched, (first, last)
    for point in months:
        march = point.month == "2026-03"
        assert point.shared == (want.accepted if march else Amount()), (point, first, last)
        assert point.spent == (want.spent if march else Amount()), (point, first, last)
        assert point.offered == (want.offered.count if march else 0), (point, first, last)


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    grant_list=st.lists(grant_gen, max_size=25),
    spend_list=st.lists(spend_gen, max_size=15),
    plain=st.lists(plain_gen, max_size=10),
    later=st.lists(st.integers(0, 24), max_size=6),
)
def test_statistics_equal_the_figures_recomputed_from_the_rows(
    ctx: Context,
    clock: ManualClock,
    grant_list: list[GrantGen],
    spend_list: list[SpendGen],
    plain: list[PlainGen],
    later: list[int],
) -> None:
    _clear(ctx.engine)
    spends = dict(enumerate(spend_list))
    rows = [(grants, _grant_row(i, g)) for i, g in enumerate(grant_list)]
    rows += [r for i, s in spends.items() for r in _settlement_rows(i, s)]
    rows += [r for i, p in enumerate(plain) for r in _plain_rows(i, p)]
    _write(ctx.engine, rows)
    clock.set(datetime(2026, 3, 12, 10, 0, tzinfo=BUSINESS_TZ))
    statistics.refresh(ctx)
    first_undone = {i for i, s in spends.items() if s.reversed}
    _compare(ctx, expected(grant_list, spends, set(), plain))
    # A day later: some offers are returned, some settlements reversed; one refresh catches up.
    clock.set(datetime(2026, 3, 13, 10, 0, tzinfo=BUSINESS_TZ))
    changed = list(grant_list)
    with ctx.engine.begin() as connection:
        for i in sorted({n for n in later if n < len(grant_list)}):
            connection.execute(
                update(grants)
                .where(grants.c.id == f"G{i:06d}")
                .values(state="closed", closed_at_us=ctx.now_us(), accepted_at_us=ctx.now_us())
            )
            changed[i] = GrantGen(
                grant_list[i].day, grant_list[i].region, grant_list[i].amount, "closed"
            )
        for i in first_undone:
            connection.execute(insert(settlements), [_reversal(i, spends[i], date(2026, 3, 13))])
    statistics.refresh(ctx)
    want = expected(changed, spends, first_undone, plain)
    _compare(ctx, want)
    kept = _stored(ctx.engine)
    statistics.refresh(ctx)  # nothing moved since: the same rows
    assert _stored(ctx.engine) == kept
