"""Any interleaving of upload (2204), revoke (2205), settle (2207), resend and reverse (2208)
of one outpatient visit's batches, on both databases, against a plain model of the line
states (docs/rules.md §8.6): each line is paid by at most one live settlement, what the live
settlements charged is exactly what their lines cost, the settlement identities hold on every
settlement and reversal, and ``gongji ledger check`` passes afterwards.

The messages go through the national interface's transaction functions inside one unit of
work each, as the route runs them (signing and HTTP are tested elsewhere). Each example starts
from a fresh database.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, select

from conftest import PostgresSchema, sqlite_url
from gongji.core.clock import ManualClock
from gongji.core.errors import GongjiError
from gongji.fsi.http.envelope import parse_envelope
from gongji.fsi.http.transactions import transaction
from gongji.ledger.check import check_ledger
from gongji.people.service.credentials_lookup import issue_ec_token
from gongji.settlement.service import catalogue
from gongji.store.engine import make_engine
from gongji.store.migrate import upgrade
from gongji.store.tables_settlements import settlements
from gongji.store.tables_visits import visit_fee_lines
from gongji.store.uow import UnitOfWork, run_in_transaction
from support.desk import HOSPITAL, open_desks
from support.fsi import EXTRA_CATALOGUE, SON, envelope
from support.fsi_visits import REGISTER, line
from support.soak import scaled
from support.world import at, build_context, insured, run

SETTINGS = settings(
    max_examples=scaled(8),
    stateful_step_count=14,
    deadline=None,
    # No shrinking: a failing example is printed as found; shrinking one can take minutes.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Three batches: (code, cnt, pric) per line; the lines of batch B are B-0, B-1, …
BATCHES = {
    "CF1": (("TA", "1", "600.00"), ("TX", "2", "100.00")),
    "CF2": (("TC", "1", "30.00"),),
    "CF3": (("TA", "3", "12.50"), ("TX", "1", "90.00")),
}


def lines_of(batch: str, mdtrt_id: str) -> list[dict[str, Any]]:
    made = []
    for n, (code, cnt, pric) in enumerate(BATCHES[batch]):
        sent = line(f"{batch}-{n}", batch, code, cnt, pric, "")
        del sent["det_item_fee_sumamt"]
        made.append({**sent, "mdtrt_id": mdtrt_id})
    return made


class VisitMachine(RuleBasedStateMachine):
    open_engine: Callable[[], tuple[Engine, Callable[[], None]]]

    def __init__(self) -> None:
        super().__init__()
        self.engine, self.close = type(self).open_engine()
        self.ctx = build_context(self.engine, ManualClock(at("2026-03-02 10:00:00")))
        self.msgs = 0
        self.model: dict[str, str] = {}  # feedetl_sn → uploaded | revoked | settled:<setl_id>
        self.sent_settlements: list[tuple[str, str]] = []  # (msgid, batch) of settlements made
        self.live: dict[str, str] = {}  # setl_id → batch

    @initialize()
    def open_visit(self) -> None:
        open_desks(self.ctx)
        made = run(self.ctx, lambda uow: catalogue.import_catalogue(self.ctx, uow, EXTRA_CATALOGUE))
        assert made.ok
        insured(self.ctx, SON, current=180_000, earlier=620_000, name="张建国")
        data = {**REGISTER["data"], "mdtrt_cert_type": "01"}  # the patient shows an e-voucher
        data["mdtrt_cert_no"] = issue_ec_token(self.ctx, SON)
        del data["psn_name"]
        self.mdtrt_id = self.send("2201", {"data": data})["data"]["mdtrt_id"]

    def send(self, infno: str, input_: dict[str, Any], msgid: str | None = None) -> Any:
        if msgid is None:
            self.msgs += 1
            msgid = f"H620100000012026030210{self.msgs:08d}"
        env = parse_envelope(envelope(infno, input_, msgid))
        handler = transaction(infno).handler

        def work(uow: UnitOfWork) -> Any:
            output = handler(self.ctx, uow, env, HOSPITAL)
            uow.commit()
            return output

        return run_in_transaction(self.engine, work)

    def attempt(self, infno: str, input_: dict[str, Any], msgid: str | None = None) -> Any:
        try:
            return self.send(infno, input_, msgid)
        except GongjiError as refused:
            return refused

    def batch_states(self, batch: str) -> list[str]:
        return [self.model[sn] for sn in self.model if sn.startswith(f"{batch}-")]

    @rule(batch=st.sampled_from(sorted(BATCHES)))
    def upload(self, batch: str) -> None:
        answer = self.attempt("2204", {"feedetail": lines_of(batch, self.mdtrt_id)})
        if "revoked" in self.batch_states(batch):
            assert isinstance(answer, GongjiError) and answer.code == "fee_line_reused"
            return
        assert not isinstance(answer, GongjiError), answer
        for n in range(len(BATCHES[batch])):
            self.model.setdefault(f"{batch}-{n}", "uploaded")

    @rule(batch=st.sampled_from(sorted(BATCHES)))
    def revoke(self, batch: str) -> None:
        data = {"mdtrt_id": self.mdtrt_id, "psn_no": SON, "chrg_bchno": batch}
        answer = self.attempt("2205", {"data": data})
        states = self.batch_states(batch)
        if not states:
            assert isinstance(answer, GongjiError) and answer.code == "batch_not_found"
        elif any(state.startswith("settled") for state in states):
            assert isinstance(answer, GongjiError) and answer.code == "fees_settled"
        else:
            assert not isinstance(answer, GongjiError), answer
            for sn in [sn for sn in self.model if sn.startswith(f"{batch}-")]:
                self.model[sn] = "revoked"

    def settle_input(self, batch: str) -> dict[str, Any]:
        total = self.attempt("2206", self._bill(batch, "0.00"))
        medfee = "0.00"
        if isinstance(total, GongjiError) and total.code == "fsi_amount_mismatch":
            medfee = str(total.detail["computed"])
        return self._bill(batch, medfee)

    def _bill(self, batch: str, medfee: str) -> dict[str, Any]:
        data = {"psn_no": SON, "med_type": "11", "medfee_sumamt": medfee, "acct_used_flag": "1",
                "mdtrt_id": self.mdtrt_id, "chrg_bchno": batch}  # fmt: skip
        return {"data": data}

    @rule(batch=st.sampled_from(sorted(BATCHES)))
    def settle(self, batch: str) -> None:
        bill = self.settle_input(batch)
        self.msgs += 1
        msgid = f"H620100000012026030210{self.msgs:08d}"
        answer = self.attempt("2207", bill, msgid)
        states = self.batch_states(batch)
        if any(state.startswith("settled") for state in states):
            assert isinstance(answer, GongjiError) and answer.code == "fees_settled"
        elif "uploaded" not in states:
            assert isinstance(answer, GongjiError)
            assert answer.code in {"batch_not_found", "batch_revoked"}
        else:
            assert not isinstance(answer, GongjiError), answer
            setl_id = answer["setlinfo"]["setl_id"]
            for sn in [sn for sn in self.model if sn.startswith(f"{batch}-")]:
                if self.model[sn] == "uploaded":
                    self.model[sn] = f"settled:{setl_id}"
            self.live[setl_id] = batch
            self.sent_settlements.append((msgid, batch))

    @rule(data=st.data())
    def resend(self, data: st.DataObject) -> None:
        if not self.sent_settlements:
            return
        msgid, batch = data.draw(st.sampled_from(self.sent_settlements))
        answer = self.attempt("2207", self.settle_input(batch), msgid)
        # Either its settlement, still live, comes back; or (reversed since) it is refused.
        if isinstance(answer, GongjiError):
            assert answer.code in {"settlement_request_reused", "fsi_amount_mismatch"}, answer
        else:
            assert answer["setlinfo"]["setl_id"] in self.live

    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        if not self.live:
            return
        setl_id = data.draw(st.sampled_from(sorted(self.live)))
        answer = self.attempt("2208", {"data": {"setl_id": setl_id, "psn_no": SON}})
        assert not isinstance(answer, GongjiError), answer
        del self.live[setl_id]
        for sn, state in self.model.items():
            if state == f"settled:{setl_id}":
                self.model[sn] = "uploaded"

    @invariant()
    def lines_agree_with_the_model(self) -> None:
        if not hasattr(self, "mdtrt_id"):
            return
        with self.engine.connect() as connection:
            stored = connection.execute(
                select(visit_fee_lines.c.feedetl_sn, visit_fee_lines.c.state,
                       visit_fee_lines.c.setl_id, visit_fee_lines.c.det_item_fee_sumamt)
            ).all()  # fmt: skip
            rows = connection.execute(select(settlements)).mappings().all()
        seen = {
            sn: (state if setl_id is None else f"{state}:{setl_id}")
            for sn, state, setl_id, _ in stored
        }
        assert seen == self.model
        live = {r["setl_id"]: r for r in rows if r["kind"] == "settlement"}
        for r in rows:
            if r["reverses"] is not None:
                live.pop(r["reverses"], None)
        assert set(live) == set(self.live)
        for setl_id, row in live.items():
            paid = sum(fee for _, state, s, fee in stored if s == setl_id and state == "settled")
            assert row["medfee_sumamt"] == paid  # each line paid once, by this settlement
        for r in rows:
            assert r["medfee_sumamt"] == (
                r["fulamt_ownpay_amt"]
                + r["overlmt_selfpay"]
                + r["preselfpay_amt"]
                + r["inscp_scp_amt"]
            )
            assert (
                r["medfee_sumamt"] == r["fund_pay_sumamt"] + r["psn_part_amt"] + r["hosp_part_amt"]
            )
            assert r["psn_part_amt"] == r["acct_pay"] + r["psn_cash_pay"]

    def teardown(self) -> None:
        try:
            report = check_ledger(self.engine)
            assert report.ok, report.verdict()
        finally:
            self.close()


def sqlite_engine(root: Path) -> tuple[Engine, Callable[[], None]]:
    directory = root / uuid.uuid4().hex[:12]
    directory.mkdir()
    engine = make_engine(sqlite_url(directory))
    upgrade(engine)

    def close() -> None:
        engine.dispose()
        shutil.rmtree(directory, ignore_errors=True)

    return engine, close


def postgres_engine(schema_class: type[PostgresSchema]) -> tuple[Engine, Callable[[], None]]:
    schema = schema_class()
    engine = schema.engine(pool_size=4)
    upgrade(engine)

    def close() -> None:
        engine.dispose()
        schema.drop()

    return engine, close


def machine_for(open_engine: Callable[[], tuple[Engine, Callable[[], None]]]) -> type[VisitMachine]:
    return type("Machine", (VisitMachine,), {"open_engine": staticmethod(open_engine)})


def test_visit_interleavings_on_sqlite(tmp_path: Path) -> None:
    run_state_machine_as_test(machine_for(lambda: sqlite_engine(tmp_path)), settings=SETTINGS)


@pytest.mark.postgres
def test_visit_interleavings_on_postgres(pg_schema: Any) -> None:
    schema_class = type(pg_schema)
    run_state_machine_as_test(machine_for(lambda: postgres_engine(schema_class)), settings=SETTINGS)
