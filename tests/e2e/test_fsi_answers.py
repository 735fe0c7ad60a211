"""The answer envelope's fidelity, through HTTP on both databases: ``warn_msg``, ``cainfo``
and ``signtype`` always present, ``refmsg_time``/``respond_time`` in the format of the province
of treatment (policy ``fsi_refmsg_time_format``), refusals included."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gongji.kernel.reference import load_policy_book
from support.api import make_client
from support.desk import PHARMACY
from support.fsi import His, build_his, envelope, fill, ids

PERSON = {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "<son_id>", "psn_name": "张建国"}}
GANSU_COMPACT = """\
[[region]]
code = "620000"
effective_from = 2020-01-01
fsi_refmsg_time_format = "yyyyMMddHHmmssSSS"
"""


@pytest.fixture
def his(engine: Engine, tmp_path: Path) -> Iterator[His]:
    """The test world, with Gansu writing answer times the compact way."""
    built = build_his(engine, tmp_path)
    policy = tmp_path / "policy.toml"
    policy.write_text(GANSU_COMPACT, "utf-8")
    ctx = dataclasses.replace(built.ctx, policies=load_policy_book(str(policy)))
    data_dir = tmp_path / "compact"
    data_dir.mkdir()
    compact = His(ctx, built.clock, make_client(ctx, built.clock, data_dir), built.keys)
    with compact.client:
        yield compact


def test_answer_times_follow_the_province_of_treatment(his: His) -> None:
    lanzhou = his.call(fill(envelope("1101", PERSON, "H62010000001202603021000000000"), ids()))
    answer = lanzhou.json()
    assert answer["infcode"] == 0, answer["err_msg"]
    assert (answer["refmsg_time"], answer["respond_time"]) == ("20260302100000000",) * 2
    assert {"warn_msg", "cainfo", "signtype"} <= answer.keys()
    jinan = his.call(
        fill(envelope("1101", PERSON, "P37010000001202603021000000000", PHARMACY), ids())
    )
    assert jinan.json()["refmsg_time"] == "2026-03-02 10:00:00.000"


def test_a_refusal_has_the_same_envelope(his: His) -> None:
    message = fill(envelope("9999", PERSON, "H62010000001202603021000000001"), ids())
    answer = his.call(message).json()
    assert answer["infcode"] == -1 and answer["output"] is None
    assert answer["refmsg_time"] == "20260302100000000"
    assert (answer["warn_msg"], answer["cainfo"], answer["signtype"]) == (None, None, None)
    garbled = his.post_raw(b"{not json").json()  # no readable region: the national format
    assert garbled["refmsg_time"] == "2026-03-02 10:00:00.000"
    unknown = fill(envelope("1101", PERSON, "H62010000001202603021000000002"), ids())
    unknown["mdtrtarea_admvs"] = "000000"  # six digits, but no division
    assert his.call(unknown).json()["refmsg_time"] == "2026-03-02 10:00:00.000"
