"""A charge batch number (``chrg_bchno``) names one visit of an institution, and that is a
database key (``visit_charge_batches``): two visits uploading the same new number at once get
one winner and one ``batch_of_another_visit``, on both databases; on PostgreSQL the second
claim waits for the first transaction and then reads its claim."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from gongji.fsi.http.routes import serve
from gongji.people.service.credentials_lookup import issue_ec_token
from gongji.settlement.store import visits_repo
from gongji.store.tables_visits import visit_charge_batches, visit_fee_lines
from support.desk import HOSPITAL
from support.fsi import FSI_PATH, SON, WIFE, His, build_his, envelope, fill, ids
from support.fsi_visits import REGISTER, line
from support.race import race

MSG = "H62010000001202603021000008"  # + 3 digits


@pytest.fixture
def his(engine: Engine, tmp_path: Path) -> Iterator[His]:
    built = build_his(engine, tmp_path)
    with built.client:
        yield built


def _register(his: His, psn_no: str, number: str, n: int) -> str:
    voucher = {"mdtrt_cert_type": "01", "mdtrt_cert_no": issue_ec_token(his.ctx, psn_no)}
    data = {**REGISTER["data"], "psn_no": psn_no, "ipt_otp_no": number, **voucher}
    data.pop("psn_name")
    answer = his.call(fill(envelope("2201", {"data": data}, f"{MSG}{n:03d}"), ids())).json()
    assert answer["infcode"] == 0, answer["err_msg"]
    mdtrt_id: str = answer["output"]["data"]["mdtrt_id"]
    return mdtrt_id


def _upload(mdtrt_id: str, psn_no: str, sn: str) -> dict[str, Any]:
    fee = {**line(sn, "RACE01", "TA", "1", "10.00", "10.00"), "mdtrt_id": mdtrt_id}
    return {"feedetail": [{**fee, "psn_no": psn_no}]}


def test_two_visits_racing_for_one_new_batch_number_have_one_winner(his: His) -> None:
    first = _register(his, SON, "MZRACE001", 1)
    second = _register(his, WIFE, "MZRACE002", 2)
    messages = [
        envelope("2204", _upload(first, SON, "1"), f"{MSG}010"),
        envelope("2204", _upload(second, WIFE, "1"), f"{MSG}011"),
    ]

    def sender(message: dict[str, Any]) -> Callable[[], tuple[str, str | None]]:
        body = json.dumps(message, ensure_ascii=False).encode()
        headers = his.signed(FSI_PATH, body, HOSPITAL)

        def send() -> tuple[str, str | None]:
            answer = serve(his.ctx, "POST", FSI_PATH, body, headers)
            return answer.headers.get("X-Gongji-Error-Code", "ok"), json.loads(answer.body)[
                "err_msg"
            ]

        return send

    outcomes = race([sender(message) for message in messages])
    codes = sorted(code for code, _ in outcomes)
    assert codes == ["batch_of_another_visit", "ok"], outcomes
    winner = first if outcomes[0][0] == "ok" else second
    loser = second if winner == first else first
    refusal = next(err for code, err in outcomes if code != "ok")
    assert refusal == f"收费批次号 RACE01 属于其他就诊，不属于就诊 {loser}"
    with his.ctx.engine.connect() as connection:
        owners = connection.execute(select(visit_charge_batches.c.mdtrt_id)).scalars().all()
        lines = connection.execute(select(visit_fee_lines.c.mdtrt_id)).scalars().all()
    assert owners == [winner]
    assert lines == [winner]


@pytest.mark.postgres
def test_the_second_claim_waits_for_the_first_and_reads_it(pg_engine: Engine) -> None:
    """The key decides, not a read before the write: transaction A claims and holds its
    transaction open; B's claim of the same number blocks until A commits, then answers A."""
    answered: list[str] = []
    with pg_engine.connect() as a:
        a.begin()
        assert visits_repo.claim_batch(a, HOSPITAL, "RACE02", "M-A", 1) == "M-A"

        def claim_in_b() -> None:
            with pg_engine.connect() as b, b.begin():
                answered.append(visits_repo.claim_batch(b, HOSPITAL, "RACE02", "M-B", 2))

        thread = threading.Thread(target=claim_in_b)
        thread.start()
        thread.join(timeout=1.0)
        assert thread.is_alive() and answered == []  # B waits on A's uncommitted key
        a.commit()
    thread.join(timeout=10.0)
    assert answered == ["M-A"]
    with pg_engine.connect() as connection:
        rows = connection.execute(select(visit_charge_batches)).all()
    assert [(row.chrg_bchno, row.mdtrt_id) for row in rows] == [("RACE02", "M-A")]


def test_stays_uploading_without_a_batch_number_claim_none(his: His) -> None:
    """2301 lets a day's lines come without ``chrg_bchno``; such lines belong to no batch, so
    two stays of one hospital both upload them (they are not one batch of two visits)."""
    for n, (psn_no, ipt_no) in enumerate(((SON, "ZYRACE01"), (WIFE, "ZYRACE02"))):
        admission = {"psn_no": psn_no, "insutype": "310", "med_type": "21", "ipt_no": ipt_no,
                     "begntime": "2026-03-02 08:00:00", "mdtrt_cert_type": "01",
                     "mdtrt_cert_no": issue_ec_token(his.ctx, psn_no)}  # fmt: skip
        admitted = his.call(envelope("2401", {"mdtrtinfo": admission}, f"{MSG}{20 + n:03d}"))
        assert admitted.json()["infcode"] == 0, admitted.json()["err_msg"]
        mdtrt_id = admitted.json()["output"]["result"]["mdtrt_id"]
        fee = {**line("D1", "", "TA", "1", "10.00", "10.00"), "mdtrt_id": mdtrt_id}
        del fee["chrg_bchno"]
        uploaded = his.call(
            envelope("2301", {"feedetail": [{**fee, "psn_no": psn_no}]}, f"{MSG}{30 + n:03d}")
        ).json()
        assert uploaded["infcode"] == 0, uploaded["err_msg"]
    with his.ctx.engine.connect() as connection:
        assert connection.execute(select(visit_charge_batches)).all() == []
        assert len(connection.execute(select(visit_fee_lines)).all()) == 2
