"""Every transaction answers on ``callService`` and on its own path ``/fsi/api/<module>/<infno>``,
walked from the table of transactions itself, on both databases; a path serves its own infno
only, and a path that is no transaction's is refused as an envelope."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gongji.fsi.http.transactions import SERVICES, TRANSACTIONS, path_of
from support.fsi import FSI_PATH, His, build_his, counts, envelope

MSG = "H6201000000120260302100009"  # + 4 digits
ROUTING_REFUSALS = {"fsi_infno_unknown", "fsi_path_mismatch", "fsi_path_unknown"}


@pytest.fixture
def his(engine: Engine, tmp_path: Path) -> Iterator[His]:
    built = build_his(engine, tmp_path)
    with built.client:
        yield built


def test_every_group_of_the_table_has_a_module() -> None:
    assert {infno[:2] for infno in TRANSACTIONS} <= set(SERVICES)
    paths = [path_of(infno) for infno in TRANSACTIONS]
    assert len(set(paths)) == len(paths)
    assert path_of("2207") == "/outpatientSettleService/2207"


def test_every_transaction_answers_alike_on_call_service_and_on_its_path(his: His) -> None:
    """An empty ``data`` is refused by the transaction itself (its first missing field), the
    same way on both paths, and writes nothing; 9001 with its fields succeeds on both."""
    before = counts(his.ctx.engine)
    for n, infno in enumerate(sorted(TRANSACTIONS)):
        answers = []
        for k, path in enumerate((FSI_PATH, f"/fsi/api{path_of(infno)}")):
            message = envelope(infno, {"data": {}}, f"{MSG}{n:02d}{k:02d}")
            response = his.call(message, path)
            assert response.status_code == 200, (infno, path, response.text)
            code = response.headers.get("X-Gongji-Error-Code")
            assert code not in ROUTING_REFUSALS, (infno, path, response.json()["err_msg"])
            answers.append((response.json()["infcode"], code, response.json()["err_msg"]))
        assert answers[0] == answers[1], infno
        assert answers[0][0] == -1, infno  # no transaction accepts an empty data
    assert counts(his.ctx.engine) == before
    sign_in = {"signIn": {"opter_no": "D0001", "mac": "", "ip": ""}}
    for k, path in enumerate((FSI_PATH, "/fsi/api/signInSignOutService/9001")):
        answer = his.call(envelope("9001", sign_in, f"{MSG}99{k:02d}"), path).json()
        assert answer["infcode"] == 0, answer["err_msg"]
        assert len(answer["output"]["signinoutb"]["sign_no"]) == 30


def test_a_path_serves_its_own_transaction_only(his: His) -> None:
    message = envelope("2206", {"data": {}}, f"{MSG}9800")
    response = his.call(message, "/fsi/api/outpatientSettleService/2207")
    assert response.headers["X-Gongji-Error-Code"] == "fsi_path_mismatch"
    assert response.json()["err_msg"] == "该地址只受理交易 2207，报文交易编号为 2206"
    for path in ("/fsi/api/hospSettService/2207", "/fsi/api/outpatientSettleService/9999"):
        response = his.call(envelope("2207", {"data": {}}, f"{MSG}9801"), path)
        assert response.status_code == 200
        answer = response.json()
        assert answer["infcode"] == -1 and answer["output"] is None
        assert response.headers["X-Gongji-Error-Code"] == "fsi_path_unknown"
        assert answer["err_msg"].startswith(f"该地址不受理任何交易：{path}")


def test_the_named_province_paths_still_answer(his: His) -> None:
    message = envelope("2304", {"data": {}}, f"{MSG}9700")
    response = his.call(message, "/fsi/api/hospSettService/settV2")
    assert response.headers["X-Gongji-Error-Code"] not in ROUTING_REFUSALS
