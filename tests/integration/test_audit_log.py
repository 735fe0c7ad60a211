"""The audit trail on both databases: records chain in the caller's unit of work, the database
refuses edits, and `gongji audit verify` finds an edited, a deleted and a reordered record.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from gongji.audit.domain.chain import BreakKind
from gongji.audit.service import log
from gongji.audit.store.audit_repo import AuditQuery
from gongji.cli.main import app
from gongji.core.clock import ManualClock
from gongji.kernel.context import Context, Role
from gongji.store.engine import make_engine
from gongji.store.uow import UnitOfWork, run_in_transaction
from support.world import at, build_context, operator, run


def record_some(ctx: Context, n: int) -> None:
    for i in range(n):
        run(
            ctx,
            lambda uow, i=i: log.record(
                ctx,
                uow,
                operator(Role.RISK_OFFICER),
                "wallet.freeze",
                subject=f"P{i}",
                reason="核查",
                amount_fen=i,
            ),
        )


def drop_guards(engine: Engine) -> None:
    """What someone with the database file could do: remove the append-only triggers."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            for name in ("audit_log_no_update", "audit_log_no_delete"):
                connection.execute(text(f"DROP TRIGGER {name}"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_update_delete ON audit_log"))


def test_records_chain_and_verify_clean(ctx: Context) -> None:
    record_some(ctx, 5)
    verdict = log.verify(ctx)
    assert verdict.ok and verdict.records == 5
    found = run(ctx, lambda uow: log.search(uow, AuditQuery(subject="P3")))
    assert [r.entry.action for r in found] == ["wallet.freeze"]
    assert found[0].entry.detail == {"amount_fen": 3}
    assert found[0].entry.actor == "operator:op-test"


def test_a_record_rolled_back_with_its_action_leaves_no_trace(ctx: Context) -> None:
    def refused(uow: UnitOfWork) -> None:
        log.record(ctx, uow, "operator:op-test", "wallet.freeze", subject="P1")
        raise RuntimeError("the action failed")

    with pytest.raises(RuntimeError):
        run_in_transaction(ctx.engine, refused)
    assert log.verify(ctx).records == 0


def test_the_database_refuses_to_edit_or_delete_a_record(ctx: Context) -> None:
    record_some(ctx, 1)
    for statement in ("UPDATE audit_log SET subject = 'P9'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), ctx.engine.begin() as connection:
            connection.execute(text(statement))
    assert log.verify(ctx).ok


@pytest.mark.parametrize(
    ("tamper", "seq", "kind"),
    [
        ("UPDATE audit_log SET subject = 'P99' WHERE seq = 3", 3, BreakKind.EDITED),
        ("DELETE FROM audit_log WHERE seq = 2", 2, BreakKind.DELETED),
        (
            "UPDATE audit_log SET seq = CASE seq WHEN 3 THEN 1003 WHEN 4 THEN 3 END "
            "WHERE seq IN (3, 4)",
            3,
            BreakKind.REORDERED,
        ),
    ],
)
def test_verify_finds_the_first_tampered_record(
    ctx: Context, tamper: str, seq: int, kind: BreakKind
) -> None:
    record_some(ctx, 5)
    drop_guards(ctx.engine)
    with ctx.engine.begin() as connection:
        connection.execute(text(tamper))
        if kind is BreakKind.REORDERED:
            connection.execute(text("UPDATE audit_log SET seq = 4 WHERE seq = 1003"))
    broken = log.verify(ctx).broken
    assert broken is not None and (broken.seq, broken.kind) == (seq, kind)


def test_a_days_anchor_catches_a_cut_off_tail(ctx: Context, clock: ManualClock) -> None:
    clock.set(at("2026-12-03T10:00:00+08:00"))
    record_some(ctx, 4)
    clock.set(at("2026-12-04T09:00:00+08:00"))
    anchored = log.anchor_yesterday(ctx)
    assert anchored is not None and (anchored.day, anchored.last_seq) == ("2026-12-03", 4)
    assert log.anchor_yesterday(ctx) == anchored  # once per day, unchanged
    assert run(ctx, lambda uow: log.anchor(ctx, uow, date(2026, 12, 4))) is None  # not over
    drop_guards(ctx.engine)
    with ctx.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE seq = 4"))
    broken = log.verify(ctx).broken
    assert broken is not None and (broken.seq, broken.kind) == (4, BreakKind.ANCHOR_MISMATCH)


def test_the_cli_says_ok_then_names_the_broken_record_and_exits_one(tmp_path: Path) -> None:
    env = {"GONGJI_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    clean = runner.invoke(app, ["audit", "verify"], env=env)
    assert clean.exit_code == 0 and clean.output.startswith("audit chain ok: 0 records")
    engine = make_engine(f"sqlite:///{tmp_path / 'gongji.db'}")
    ctx = build_context(engine, ManualClock(at("2026-12-04T10:00:00+08:00")))
    record_some(ctx, 3)
    drop_guards(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET reason = 'x' WHERE seq = 2"))
    engine.dispose()
    broken = runner.invoke(app, ["audit", "verify"], env=env)
    assert broken.exit_code == 1
    assert broken.output.strip() == "audit chain BROKEN at record 2: edited"
