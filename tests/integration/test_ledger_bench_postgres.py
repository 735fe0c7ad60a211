"""`gongji bench ledger` on PostgreSQL, for a second a side: its slices run, its ledgers check
clean, and a baseline that cannot run leaves the rows without a ratio and says why.

No rates are asserted (no timed assertions): they belong to the machine.
"""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from conftest import PG_URL, require_postgres
from gongji.sim.ledger_bench import BenchOptions, run_ledger_bench

BENCH_DATABASE = "gongji_bench_test"


@pytest.fixture
def bench_url() -> str:
    require_postgres()
    return make_url(PG_URL).set(database=BENCH_DATABASE).render_as_string(hide_password=False)


def test_without_pgbench_the_rows_run_and_say_why_they_have_no_ratio(
    bench_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("no-pgbench")))
    options = BenchOptions(
        databases=("postgres",),
        seconds=1.0,
        warmup_s=0.05,
        accounts=50,
        clients=(2,),
        batch_sizes=(10,),
        pg_url=bench_url,
    )

    (result,) = run_ledger_bench(options).results

    assert [row.label for row in result.rows] == ["single, 2 clients", "batch 10"]
    assert all(row.transfers > 0 for row in result.rows)
    assert all(row.ratio is None and row.ratio_low is None for row in result.rows)
    assert result.targets_met is None
    assert "2-client baseline missing: pgbench not found on PATH" in result.baseline
    assert result.ledger_check.startswith("ledger check: ok on all 2 row databases")
    assert result.refused == 0
