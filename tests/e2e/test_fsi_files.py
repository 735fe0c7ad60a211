"""9101 文件上传, 3202 by ``file_qury_no`` and 9102 文件下载 through HTTP on both databases. The
hospital settles the outpatient bill of support/fsi.py (800.00), then reconciles its day from a
file: a zip holding the CSV of the REST detail reconciliation, uploaded as the platform's HIS
clients send it (a byte array) or as base64 text."""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from gongji.fsi.service.files import FILE_BYTES_MAX
from gongji.jobs.fsi_files import run_delete_expired_files
from gongji.jobs.scheduler import Scheduler
from gongji.store.tables_fsi_files import fsi_files
from support.desk import PHARMACY
from support.fsi import MSGID, OUTPATIENT_INPUT, His, build_his, envelope, fill, ids
from support.fsi_visits import golden, refused

MSG = "H62010000001202603021000007"  # + 3 digits
HEADER = "setl_id,medfee_sumamt,fund_pay_sumamt,acct_pay\n"
STRANGER = "S0000000000000000000000,120.00,0.00,120.00\n"
PERIOD = {"stmt_begndate": "2026-03-02", "stmt_enddate": "2026-03-02"}


def zipped(*members: tuple[str, str]) -> bytes:
    """A zip as a HIS makes it, with fixed member times so that its bytes never change."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members:
            archive.writestr(zipfile.ZipInfo(name, (2026, 3, 2, 10, 0, 0)), text.encode())
    return out.getvalue()


def upload_input(content: bytes, as_bytes: bool = False, name: str = "stmt.zip") -> Any:
    sent: Any = list(content) if as_bytes else base64.b64encode(content).decode()
    return {"fsUploadIn": {"in": sent, "filename": name, "fixmedins_code": "H62010000001"}}


@pytest.fixture
def his(engine: Engine, tmp_path: Path) -> Iterator[His]:
    built = build_his(engine, tmp_path)
    with built.client:
        yield built


def send(his: His, infno: str, input_: Any, msgid: str, institution: str = "H62010000001") -> Any:
    message = fill(envelope(infno, input_, msgid, institution), ids())
    answer = his.call(message).json()
    assert answer["infcode"] == 0, answer["err_msg"]
    return answer["output"]


@pytest.fixture
def values(his: His) -> dict[str, str]:
    made = ids()
    settled = send(his, "2207", OUTPATIENT_INPUT, MSGID["2207"])
    made["<setl_id>"] = settled["setlinfo"]["setl_id"]
    return made


def _files(his: His) -> int:
    with his.ctx.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(fsi_files)).scalar_one())


def test_a_day_reconciled_from_an_uploaded_file(his: His, values: dict[str, str]) -> None:
    content = zipped(("stmt.csv", HEADER + STRANGER))
    stored = golden(his, "9101", envelope("9101", upload_input(content), f"{MSG}001"), values)
    again = send(his, "9101", upload_input(content, as_bytes=True), f"{MSG}002")
    assert again == stored and _files(his) == 1  # the same file, however sent, is stored once
    number = stored["file_qury_no"]
    by_file = {"data": {**PERIOD, "file_qury_no": number}}
    result = golden(his, "3202_file", envelope("3202", by_file, f"{MSG}003"), values)
    assert result["stmtinfo"]["stmt_rslt"] == "1"
    assert [line["setl_id"] for line in result["institution_only"]] == [STRANGER[:23]]
    fetched = golden(his, "9102", envelope("9102", {"fsDownloadIn": {"file_qury_no": number}},
                                           f"{MSG}004"), values)  # fmt: skip
    assert base64.b64decode(fetched["content"]) == content
    own = f"{values['<setl_id>']},800.00,122.00,638.00\n"
    plain = send(his, "9101", upload_input((HEADER + own).encode(), name="stmt.csv"), f"{MSG}005")
    balanced = send(his, "3202", {"data": {**PERIOD, "file_qury_no": plain["file_qury_no"]}},
                    f"{MSG}006")  # fmt: skip
    assert balanced["stmtinfo"] == {"stmt_rslt": "0", "stmt_rslt_dscr": "对账平"}


def test_a_file_is_its_institutions_own_and_kept_seven_days(
    his: His, values: dict[str, str]
) -> None:
    pharmacy_input = upload_input(zipped(("stmt.csv", HEADER + STRANGER)))
    pharmacy_input["fsUploadIn"]["fixmedins_code"] = PHARMACY
    theirs = send(his, "9101", pharmacy_input, f"P3701000000120260302100{1:07d}", PHARMACY)
    by_file = {"data": {**PERIOD, "file_qury_no": theirs["file_qury_no"]}}
    err = refused(his, envelope("3202", by_file, f"{MSG}010"), values, "fsi_file_not_found")
    assert err.startswith(f"未找到文件：{theirs['file_qury_no']}")
    ours = send(his, "9101", upload_input(zipped(("a.csv", HEADER))), f"{MSG}011")
    his.clock.advance(timedelta(days=7, seconds=1))
    fetch = {"fsDownloadIn": {"file_qury_no": ours["file_qury_no"]}}
    refused(his, envelope("9102", fetch, f"{MSG}012"), values, "fsi_file_not_found")


def test_files_past_their_seven_days_are_deleted_by_the_job(
    his: His, values: dict[str, str]
) -> None:
    old = [
        send(his, "9101", upload_input(zipped((f"{n}.csv", HEADER))), f"{MSG}{40 + n:03d}")
        for n in range(3)
    ]
    his.clock.advance(timedelta(days=3))
    fresh = send(his, "9101", upload_input(zipped(("fresh.csv", HEADER))), f"{MSG}043")
    his.clock.advance(timedelta(days=4))  # the first three are 7 days old: past their period
    fetch = {"fsDownloadIn": {"file_qury_no": old[0]["file_qury_no"]}}
    before = refused(his, envelope("9102", fetch, f"{MSG}044"), values, "fsi_file_not_found")
    assert run_delete_expired_files(his.ctx, batch_files=2) == 3  # two batches, the 2nd not full
    assert _files(his) == 1
    after = refused(his, envelope("9102", fetch, f"{MSG}045"), values, "fsi_file_not_found")
    assert after == before  # deleted or only expired: one answer
    kept = send(his, "9102", {"fsDownloadIn": {"file_qury_no": fresh["file_qury_no"]}}, f"{MSG}046")
    assert kept["file_qury_no"] == fresh["file_qury_no"]
    assert run_delete_expired_files(his.ctx) == 0  # again: nothing to do, nothing changed
    assert _files(his) == 1


def test_a_file_uploaded_again_after_its_period_is_kept_seven_days_more(
    his: His, values: dict[str, str]
) -> None:
    content = upload_input(zipped(("a.csv", HEADER)))
    first = send(his, "9101", content, f"{MSG}060")
    his.clock.advance(timedelta(days=8))  # past its period, not yet deleted by the job
    again = send(his, "9101", content, f"{MSG}061")
    assert again["file_qury_no"] == first["file_qury_no"]
    assert again["dld_endtime"] == "2026-03-17 10:00:00"  # 8 + 7 days after 2026-03-02 10:00
    fetch = {"fsDownloadIn": {"file_qury_no": again["file_qury_no"]}}
    assert send(his, "9102", fetch, f"{MSG}062")["file_qury_no"] == first["file_qury_no"]
    assert _files(his) == 1


def test_the_servers_scheduler_deletes_expired_files_hourly(
    his: His, values: dict[str, str]
) -> None:
    send(his, "9101", upload_input(zipped(("a.csv", HEADER))), f"{MSG}050")
    his.clock.advance(timedelta(days=7))
    scheduler = Scheduler(his.ctx)
    scheduler.run_once()
    assert _files(his) == 0
    send(his, "9101", upload_input(zipped(("b.csv", HEADER))), f"{MSG}051")
    his.clock.advance(timedelta(days=7))
    scheduler.run_once()  # within the hour of the last deletion: not due yet
    assert _files(his) == 1


def test_bad_files_are_refused_and_nothing_is_stored(his: His, values: dict[str, str]) -> None:
    cases: list[tuple[Any, str, str]] = [
        (upload_input(b"x" * (FILE_BYTES_MAX + 1)), "fsi_file_too_large",
         f"文件过大：{FILE_BYTES_MAX + 1} 字节，上限 {FILE_BYTES_MAX} 字节"),
        ({"fsUploadIn": {"in": "not base64!", "filename": "a.zip"}}, "fsi_field_invalid",
         "字段 in 的值不正确（应为 base64 文本）"),
        ({"fsUploadIn": {"in": [1, 256], "filename": "a.zip"}}, "fsi_field_invalid",
         "字段 in 的值不正确（应为 0–255 的字节数组或 base64 文本）"),
        ({"fsUploadIn": {"filename": "a.zip"}}, "fsi_field_missing", "缺少必填字段：in"),
        ({"fsUploadIn": {"in": "AAAA", "filename": "../a.zip"}}, "fsi_field_invalid", ""),
        ({"fsUploadIn": {"in": "AAAA", "filename": "a.zip", "fixmedins_code": PHARMACY}},
         "fsi_field_invalid", "字段 fixmedins_code 的值不正确（应为本机构编号）"),
    ]  # fmt: skip
    for n, (input_, code, message) in enumerate(cases):
        err = refused(his, envelope("9101", input_, f"{MSG}{20 + n:03d}"), values, code)
        assert not message or err == message, err
    assert _files(his) == 0
    two = send(his, "9101", upload_input(zipped(("a.csv", HEADER), ("b.csv", HEADER))), f"{MSG}030")
    by_file = {"data": {**PERIOD, "file_qury_no": two["file_qury_no"]}}
    err = refused(his, envelope("3202", by_file, f"{MSG}031"), values, "fsi_file_unreadable")
    assert err.endswith("压缩包应只含一个文件，含 2 个")
    bad = send(
        his, "9101", upload_input(b"setl_id,medfee_sumamt\nS1,1\n", name="x.csv"), f"{MSG}032"
    )
    by_file = {"data": {**PERIOD, "file_qury_no": bad["file_qury_no"]}}
    refused(his, envelope("3202", by_file, f"{MSG}033"), values, "reconciliation_detail_invalid")
    both = {"data": {**PERIOD, "file_qury_no": bad["file_qury_no"]}, "detail": []}
    err = refused(his, envelope("3202", both, f"{MSG}034"), values, "fsi_field_invalid")
    assert err == "字段 file_qury_no 的值不正确（不能与 detail 同时提供）"
