"""SQL for visits, their diagnoses and uploaded fee-detail lines. No decisions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

from sqlalchemy import Connection

from gongji.store import raw
from gongji.store.tables_visits import visit_fee_lines  # noqa: F401  (registers the tables)


@dataclass(frozen=True, slots=True)
class VisitRow:
    institution_code: str
    mdtrt_id: str
    kind: str
    ipt_otp_no: str
    psn_no: str
    insutype: str
    med_type: str
    state: str
    begntime: str
    endtime: str | None
    created_at_us: int
    updated_at_us: int


class VisitChanges(TypedDict, total=False):
    """What a visit's later messages change: 2202 / 2402 / 2405 its state, 2402 its end, 2203
    its category."""

    state: str
    endtime: str | None
    med_type: str


@dataclass(frozen=True, slots=True)
class FeeLineRow:
    institution_code: str
    mdtrt_id: str
    feedetl_sn: str
    chrg_bchno: str
    seq: int
    item_code: str
    quantity: str
    unit_price_fen: int
    det_item_fee_sumamt: int
    fee_ocur_time: str | None
    line_hash: str
    state: str
    setl_id: str | None
    uploaded_at_us: int


@dataclass(frozen=True, slots=True)
class DiagnosisRow:
    institution_code: str
    mdtrt_id: str
    diag_srt_no: int
    diag_type: str
    diag_code: str
    diag_name: str
    maindiag_flag: str


_VISIT = f"SELECT {raw.column_list(VisitRow)} FROM visits"
_LINES = f"SELECT {raw.column_list(FeeLineRow)} FROM visit_fee_lines"
_KEY = "institution_code = :institution_code AND mdtrt_id = :mdtrt_id"


def visit(
    connection: Connection, institution_code: str, mdtrt_id: str, *, lock: bool = False
) -> VisitRow | None:
    read = _visit_select(institution_code, mdtrt_id, raw.for_update(connection, lock))
    found = raw.fetch(connection, *read)
    return VisitRow(*found[0]) if found else None


def visit_read(institution_code: str, mdtrt_id: str, lock: bool) -> raw.Read:
    """The read of :func:`visit` on PostgreSQL, to make ahead (``raw.prefetch``)."""
    return _visit_select(institution_code, mdtrt_id, raw.lock_clause(lock))


def _visit_select(institution_code: str, mdtrt_id: str, lock_clause: str) -> raw.Read:
    params = {"institution_code": institution_code, "mdtrt_id": mdtrt_id}
    return f"{_VISIT} WHERE {_KEY}{lock_clause}", params


def visit_by_number(
    connection: Connection, institution_code: str, kind: str, ipt_otp_no: str
) -> VisitRow | None:
    found = raw.fetch(connection, *visit_by_number_read(institution_code, kind, ipt_otp_no))
    return VisitRow(*found[0]) if found else None


def visit_by_number_read(institution_code: str, kind: str, ipt_otp_no: str) -> raw.Read:
    """The read of :func:`visit_by_number`, to make ahead (``raw.prefetch``)."""
    statement = (
        f"{_VISIT} WHERE institution_code = :institution_code AND kind = :kind"
        " AND ipt_otp_no = :ipt_otp_no"
    )
    return statement, {"institution_code": institution_code, "kind": kind, "ipt_otp_no": ipt_otp_no}


def visits_of_person(
    connection: Connection, institution_code: str, psn_no: str, limit: int
) -> list[VisitRow]:
    statement = (
        f"{_VISIT} WHERE institution_code = :institution_code AND psn_no = :psn_no"
        " ORDER BY created_at_us, mdtrt_id LIMIT :limit"
    )
    params = {"institution_code": institution_code, "psn_no": psn_no, "limit": limit}
    return [VisitRow(*row) for row in raw.fetch(connection, statement, params)]


def insert_visit(connection: Connection, row: VisitRow) -> None:
    statement = raw.insert_statement("visits", raw.field_names(VisitRow))
    raw.execute(connection, statement, raw.record_params(row))


def update_visit(
    connection: Connection,
    institution_code: str,
    mdtrt_id: str,
    now_us: int,
    **values: Unpack[VisitChanges],
) -> None:
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    params = {
        **values,
        "institution_code": institution_code,
        "mdtrt_id": mdtrt_id,
        "now_us": now_us,
    }
    statement = f"UPDATE visits SET {assignments}, updated_at_us = :now_us WHERE {_KEY}"
    raw.execute(connection, statement, params)


def replace_diagnoses(
    connection: Connection, institution_code: str, mdtrt_id: str, rows: Sequence[DiagnosisRow]
) -> None:
    params = {"institution_code": institution_code, "mdtrt_id": mdtrt_id}
    raw.execute(connection, f"DELETE FROM visit_diagnoses WHERE {_KEY}", params)
    raw.insert_rows(connection, "visit_diagnoses", DiagnosisRow, rows)


def diagnoses(connection: Connection, institution_code: str, mdtrt_id: str) -> list[DiagnosisRow]:
    statement = (
        f"SELECT {raw.column_list(DiagnosisRow)} FROM visit_diagnoses WHERE {_KEY}"
        " ORDER BY diag_srt_no"
    )
    params = {"institution_code": institution_code, "mdtrt_id": mdtrt_id}
    return [DiagnosisRow(*row) for row in raw.fetch(connection, statement, params)]


def lines(
    connection: Connection,
    institution_code: str,
    mdtrt_id: str,
    *,
    chrg_bchno: str | None = None,
    lock: bool = False,
) -> list[FeeLineRow]:
    """A visit's lines (of one batch when ``chrg_bchno`` is given), in upload order."""
    read = _lines_select(institution_code, mdtrt_id, chrg_bchno, raw.for_update(connection, lock))
    return [FeeLineRow(*row) for row in raw.fetch(connection, *read)]


def lines_read(
    institution_code: str, mdtrt_id: str, chrg_bchno: str | None, lock: bool
) -> raw.Read:
    """The read of :func:`lines` on PostgreSQL, to make ahead (``raw.prefetch``)."""
    return _lines_select(institution_code, mdtrt_id, chrg_bchno, raw.lock_clause(lock))


def _lines_select(
    institution_code: str, mdtrt_id: str, chrg_bchno: str | None, lock_clause: str
) -> raw.Read:
    params: dict[str, Any] = {"institution_code": institution_code, "mdtrt_id": mdtrt_id}
    where = _KEY
    if chrg_bchno is not None:
        where += " AND chrg_bchno = :chrg_bchno"
        params["chrg_bchno"] = chrg_bchno
    return f"{_LINES} WHERE {where} ORDER BY seq{lock_clause}", params


def batch_visit(connection: Connection, institution_code: str, chrg_bchno: str) -> str | None:
    """The visit a charge batch number belongs to at this institution, if it was claimed."""
    found = raw.fetch(connection, *batch_visit_read(institution_code, chrg_bchno))
    return str(found[0][0]) if found else None


def batch_visit_read(institution_code: str, chrg_bchno: str) -> raw.Read:
    """The read of :func:`batch_visit`, to make ahead (``raw.prefetch``)."""
    statement = (
        "SELECT mdtrt_id FROM visit_charge_batches WHERE institution_code = :institution_code"
        " AND chrg_bchno = :chrg_bchno"
    )
    return statement, {"institution_code": institution_code, "chrg_bchno": chrg_bchno}


def claim_batch(
    connection: Connection, institution_code: str, chrg_bchno: str, mdtrt_id: str, now_us: int
) -> str:
    """Claim a batch number for a visit unless it is claimed; the visit that holds it now.

    ``ON CONFLICT DO NOTHING`` on both databases: on PostgreSQL (read committed) a second
    transaction claiming the same number waits for the first to end. The insert answers the
    claim it made; only a number claimed before is read."""
    statement = (
        "INSERT INTO visit_charge_batches (institution_code, chrg_bchno, mdtrt_id, claimed_at_us)"
        " VALUES (:institution_code, :chrg_bchno, :mdtrt_id, :claimed_at_us)"
        " ON CONFLICT (institution_code, chrg_bchno) DO NOTHING RETURNING mdtrt_id"
    )
    params = {
        "institution_code": institution_code,
        "chrg_bchno": chrg_bchno,
        "mdtrt_id": mdtrt_id,
        "claimed_at_us": now_us,
    }
    if raw.fetch(connection, statement, params):
        return mdtrt_id
    owner = batch_visit(connection, institution_code, chrg_bchno)
    assert owner is not None  # claimed before
    return owner


def next_seq(connection: Connection, institution_code: str, mdtrt_id: str) -> int:
    return int(raw.fetch(connection, *next_seq_read(institution_code, mdtrt_id))[0][0]) + 1


def next_seq_read(institution_code: str, mdtrt_id: str) -> raw.Read:
    """The read of :func:`next_seq`, to make ahead (``raw.prefetch``)."""
    statement = f"SELECT COALESCE(MAX(seq), 0) FROM visit_fee_lines WHERE {_KEY}"
    return statement, {"institution_code": institution_code, "mdtrt_id": mdtrt_id}


def insert_lines(connection: Connection, rows: Sequence[FeeLineRow]) -> None:
    raw.insert_rows(connection, "visit_fee_lines", FeeLineRow, rows)


def set_lines(
    connection: Connection,
    institution_code: str,
    mdtrt_id: str,
    feedetl_sns: Sequence[str],
    state: str,
    setl_id: str | None,
) -> None:
    params: dict[str, Any] = {
        "institution_code": institution_code,
        "mdtrt_id": mdtrt_id,
        "state": state,
        "setl_id": setl_id,
    }
    chosen = raw.in_list("feedetl_sn", list(feedetl_sns), params)
    statement = (
        f"UPDATE visit_fee_lines SET state = :state, setl_id = :setl_id WHERE {_KEY} AND {chosen}"
    )
    raw.execute(connection, statement, params)


def release_settled(connection: Connection, setl_id: str) -> int:
    """Lines paid by ``setl_id`` become uploaded again (its reversal); how many."""
    statement = (
        "UPDATE visit_fee_lines SET state = 'uploaded', setl_id = NULL"
        " WHERE setl_id = :setl_id AND state = 'settled'"
    )
    return raw.changed(connection, statement, {"setl_id": setl_id})
