"""Who the patient at the desk is, over HTTP on SQLite and PostgreSQL: the holder of the QR
e-voucher scanned or of the card number typed with the name, never a person number typed or
carried alone; every failure the same words beside the credential; the identified patient
carried to the next step only with a seal of this desk session; refusals on record and counted
against the institution's allowance, the REST API's and the national interface's."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from browser.site import MOTHER, SON
from test_web_desk import (
    NOT_IDENTIFIED,
    PHARMACY,
    amount,
    bill,
    csrf_of,
    family,
    key_of,
    signed_in,
)

from gongji.core.clock import ManualClock
from gongji.core.ids import make_resident_id
from gongji.core.limits import Limits
from gongji.kernel.context import Actor, ActorKind, Context, Role
from gongji.people.service.credentials_lookup import issue_ec_token
from gongji.people.service.lookups import lookups_of
from support.api import make_client
from support.credentials import card_of
from support.world import run

__all__ = ["family"]  # the fixture, shared with the desk's own tests

AUDITOR = Actor(ActorKind.OPERATOR, "audit", frozenset({Role.AUDITOR}))
_SEAL = re.compile(r'name="patient_seal" value="([^"]+)"')
CREDENTIAL = ("mdtrt_cert_type", "mdtrt_cert_no", "psn_name")


def carried_bill(csrf: str, **extra: str) -> dict[str, str]:
    """The bill with no credential typed: only what the page carries."""
    return {k: v for k, v in bill(csrf, **extra).items() if k not in CREDENTIAL}


def error_of(page: object, field: str) -> str:
    text = str(getattr(page, "text", ""))
    found = re.search(rf'id="f-{field}-error"[^>]*>(.*?)</', text, flags=re.S)
    assert found is not None, f"no error beside {field}"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_a_person_number_names_no_one_at_the_desk(
    family: Context, clock: ManualClock, tmp_path: Path
) -> None:
    client = make_client(family, clock, tmp_path)
    csrf = csrf_of(signed_in(client, key_of(family, PHARMACY)))
    typed = {"csrf_token": csrf, "mdtrt_cert_type": "psn_no", "mdtrt_cert_no": MOTHER.psn_no}
    assert client.post("/desk/find", data=typed).status_code == 400
    bare = carried_bill(csrf, psn_no=MOTHER.psn_no)
    for path in ("/desk/find", "/desk/quote"):
        refused = client.post(path, data=bare)
        assert refused.status_code == 400, path
        assert "人员编号" in error_of(refused, "mdtrt_cert_no")
        assert 'id="patient-name"' not in refused.text
    forged = client.post("/desk/quote", data={**bare, "patient_seal": "0" * 64})
    assert forged.status_code == 400 and 'id="patient-name"' not in forged.text


def test_the_patient_found_is_carried_sealed_to_this_session_only(
    family: Context, clock: ManualClock, tmp_path: Path
) -> None:
    client = make_client(family, clock, tmp_path)
    csrf = csrf_of(signed_in(client, key_of(family, PHARMACY)))
    token = issue_ec_token(family, MOTHER.psn_no)
    found = client.post("/desk/find", data={"csrf_token": csrf, "scan": token})
    seal = _SEAL.search(found.text)
    assert found.status_code == 200 and seal is not None
    carried = carried_bill(csrf, psn_no=MOTHER.psn_no, patient_seal=seal.group(1))
    quoted = client.post("/desk/quote", data=carried)
    assert quoted.status_code == 200, quoted.text[:500]
    assert amount(quoted, "acct_mulaid_pay") == "72.00"
    other_patient = client.post("/desk/quote", data={**carried, "psn_no": SON.psn_no})
    assert other_patient.status_code == 400  # the seal is the mother's

    elsewhere = make_client(family, clock, tmp_path / "other")
    other_csrf = csrf_of(signed_in(elsewhere, key_of(family, PHARMACY)))
    stolen = elsewhere.post("/desk/quote", data={**carried, "csrf_token": other_csrf})
    assert stolen.status_code == 400 and 'id="patient-name"' not in stolen.text


def test_every_failure_is_the_same_words_and_is_on_record(
    family: Context, clock: ManualClock, tmp_path: Path
) -> None:
    client = make_client(family, clock, tmp_path)
    csrf = csrf_of(signed_in(client, key_of(family, PHARMACY)))
    unknown = make_resident_id("370102", date(1944, 2, 18), 777)
    token = issue_ec_token(family, MOTHER.psn_no)
    attempts = [
        card_of(MOTHER.id_number, "王秀英"),
        card_of(unknown, MOTHER.name),
        card_of(MOTHER.id_number[:-1] + "0", MOTHER.name, cert_type="03"),
        {"mdtrt_cert_type": "01", "mdtrt_cert_no": token + "x"},
    ]
    for n, presented in enumerate(attempts):
        page = client.post("/desk/quote", data={**carried_bill(csrf), **presented})
        assert page.status_code == 400, n
        assert error_of(page, "mdtrt_cert_no") == NOT_IDENTIFIED, n
        assert presented["mdtrt_cert_no"] not in page.text
    scanned = client.post("/desk/find", data={"csrf_token": csrf, "scan": token[:-1] + "x"})
    assert error_of(scanned, "scan") == NOT_IDENTIFIED
    nameless = client.post("/desk/find", data={"csrf_token": csrf, **card_of(unknown, "")})
    assert "姓名" in error_of(nameless, "psn_name")

    recorded = run(family, lambda uow: lookups_of(uow, AUDITOR, institution_code=PHARMACY))
    assert [(r.purpose, r.outcome, r.psn_no) for r in recorded] == [
        ("结算台 就诊人身份核验", "person_not_identified", None)
    ] * 5


def test_the_desk_counts_against_the_institutions_allowance(
    family: Context, clock: ManualClock, tmp_path: Path
) -> None:
    object.__setattr__(family, "limits", Limits(fsi_identifications_per_minute=2))
    client = make_client(family, clock, tmp_path)
    csrf = csrf_of(signed_in(client, key_of(family, PHARMACY)))
    presented = {"csrf_token": csrf, **card_of(MOTHER.id_number, MOTHER.name)}
    assert client.post("/desk/find", data=presented).status_code == 200
    assert client.post("/desk/quote", data=bill(csrf)).status_code == 200
    limited = client.post("/desk/find", data=presented)
    assert limited.status_code == 400 and 'id="patient-name"' not in limited.text
    assert "请求过于频繁" in limited.text
