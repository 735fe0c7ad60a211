"""Personal data at rest: someone holding the SQLite file (and its ``-wal``) without the key
finds no ID number in it, whole or rebuilt from its pieces, and the files are the owner's only.

The population is the demo family plus a generated one, written through the real command line
and HTTP API (imports, the kinship register, a relationship proposed by ID number), so every
place a number passes through is on disk when the bytes are searched.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from conftest import PostgresSchema, sqlite_url
from gongji.app.asgi import create_app
from gongji.bootstrap import Container, build
from gongji.cli.main import app as cli
from gongji.config import Settings
from gongji.core.ids import make_resident_id
from gongji.core.masking import mask_id_number
from gongji.identity.service import identity
from gongji.sim.demo import DEMO_PEOPLE
from gongji.store.engine import make_engine
from gongji.store.migrate import upgrade
from support.api import post
from support.world import run

GENERATED = 40
MIGRATED = 1000
"""Persons in the old file: enough pages that freed ones are not all reused as list pages."""
NEAR_BYTES = 512
"""How far from a person's mask or number the birth date must not be found."""


def generated_people() -> list[tuple[str, str]]:
    """(psn_no, ID number) of a population born on distinct days."""
    return [
        (
            f"P62010000{number + 100:04d}",
            make_resident_id("620102", date(1950, 1, 1) + timedelta(days=397 * number), number),
        )
        for number in range(1, GENERATED + 1)
    ]


def persons_csv(people: list[tuple[str, str]]) -> str:
    header = (
        "psn_no,id_number,name,mobile,insutype,region,status,employment,start_date,"
        "balance_current,balance_earlier"
    )
    rows = [
        f"{psn_no},{number},刘{index},1390000{index:04d},310,620100,1,employed,2020-01-01,100,200"
        for index, (psn_no, number) in enumerate(people)
    ]
    return "\n".join([header, *rows]) + "\n"


@pytest.fixture
def on_disk(tmp_path: Path) -> Iterator[tuple[Container, list[tuple[str, str]]]]:
    env = {"GONGJI_DATA_DIR": str(tmp_path / "var"), "COLUMNS": "200"}
    people = generated_people()
    source = tmp_path / "persons.csv"
    source.write_text(persons_csv(people), encoding="utf-8")
    kinship = tmp_path / "kinship.csv"
    kinship.write_text(
        "id_number,relative_id_number,kind\n"
        + "".join(f"{people[i][1]},{people[i + 1][1]},父母\n" for i in range(0, GENERATED, 2)),
        encoding="utf-8",
    )
    runner = CliRunner()
    for command in (["demo", "seed"], ["import", "persons", str(source)]):
        result = runner.invoke(cli, command, env=env)
        assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["import", "kinship", str(kinship)], env=env)
    assert result.exit_code == 0, result.output
    container = build(Settings.from_env(env))
    yield container, [*people, *((p.psn_no, p.id_number) for p in DEMO_PEOPLE)]
    container.close()


def _propose_by_id_number(container: Container, client: TestClient) -> None:
    """A person names a relative by ID number over HTTP: the request and its stored answer."""
    ctx = container.context
    head, mother = DEMO_PEOPLE[0], DEMO_PEOPLE[2]
    token = run(ctx, lambda uow: identity.issue_person_token(ctx, uow, head.psn_no)).token
    answer = post(
        client,
        "/api/v1/relationships",
        {"Authorization": f"Bearer {token}"},
        {"id_number": mother.id_number, "name": mother.name, "kind": "parent"},
    )
    assert answer.status_code in (200, 201), answer.text


def _database_bytes(data_dir: Path) -> bytes:
    files = [data_dir / "gongji.db", data_dir / "gongji.db-wal"]
    assert files[1].exists(), "the -wal was checkpointed away: it was not searched"
    return b"".join(path.read_bytes() for path in files)


def _near(blob: bytes, anchor: bytes, needles: list[bytes]) -> list[bytes]:
    found = []
    start = blob.find(anchor)
    while start != -1:
        window = blob[max(0, start - NEAR_BYTES) : start + len(anchor) + NEAR_BYTES]
        found += [needle for needle in needles if needle in window]
        start = blob.find(anchor, start + 1)
    return found


def test_no_id_number_nor_its_pieces_in_the_database_files(
    on_disk: tuple[Container, list[tuple[str, str]]],
) -> None:
    container, people = on_disk
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        _propose_by_id_number(container, client)
        blob = _database_bytes(container.settings.data_dir)  # the server still running
    assert b"P620100000001" in blob  # the search reads the real file: the rows are there

    for psn_no, number in people:
        assert number.encode() not in blob, psn_no
        born = number[6:14]
        birth_forms = [born.encode(), f"{born[:4]}-{born[4:6]}-{born[6:]}".encode()]
        for anchor in (mask_id_number(number).encode(), psn_no.encode()):
            assert _near(blob, anchor, birth_forms) == [], (psn_no, anchor)


def test_files_and_directory_are_the_owners_only(
    on_disk: tuple[Container, list[tuple[str, str]]],
) -> None:
    container, _people = on_disk
    data_dir = container.settings.data_dir
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        _propose_by_id_number(container, client)
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        for name in ("gongji.db", "gongji.db-wal", "gongji.db-shm", "secret.key"):
            assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600, name


def test_files_left_readable_by_an_earlier_version_are_narrowed(tmp_path: Path) -> None:
    env = {"GONGJI_DATA_DIR": str(tmp_path)}
    assert CliRunner().invoke(cli, ["demo", "seed"], env=env).exit_code == 0
    for name in ("gongji.db", "secret.key"):
        os.chmod(tmp_path / name, 0o644)
    assert CliRunner().invoke(cli, ["ledger", "check"], env=env).exit_code == 0
    for name in ("gongji.db", "secret.key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


def test_the_migration_leaves_no_clear_birth_date_in_the_file(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path))
    upgrade(engine, "0007_premium_draws")
    births = [(date(1940, 1, 1) + timedelta(days=n)).isoformat() for n in range(MIGRATED)]
    with engine.begin() as connection:
        for n, born in enumerate(births):
            connection.execute(
                text(
                    "INSERT INTO persons (psn_no, id_hash, id_enc, id_masked, name_hash, name_enc,"
                    " name_masked, sex, birth_date, created_at_us) VALUES (:p, :h, 'v1:x',"
                    " '620102********0018', :h, 'v1:y', '刘*', '1', :b, 0)"
                ),
                {"p": f"P{n:012d}", "h": f"{n:064d}", "b": born},
            )
    engine.dispose()
    before = (tmp_path / "gongji.db").read_bytes()
    assert all(born.encode() in before for born in births)  # the old file held them

    engine = make_engine(sqlite_url(tmp_path))
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM persons")).scalar_one() == MIGRATED
        blob = b"".join(
            path.read_bytes() for path in tmp_path.iterdir() if path.name.startswith("gongji.db")
        )
    engine.dispose()
    assert [born for born in births if born.encode() in blob] == []


@pytest.mark.postgres
def test_the_migration_drops_birth_dates_on_postgres(pg_schema: PostgresSchema) -> None:
    engine = pg_schema.engine()
    try:
        upgrade(engine, "0007_premium_draws")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO persons (psn_no, id_hash, id_enc, id_masked, name_hash, name_enc,"
                    " name_masked, sex, birth_date, created_at_us) VALUES ('P1', 'h', 'v1:x',"
                    " '620102********0018', 'h', 'v1:y', '刘*', '1', '1944-02-18', 0)"
                )
            )
        upgrade(engine)
        with engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("persons")}
            assert connection.execute(text("SELECT count(*) FROM persons")).scalar_one() == 1
    finally:
        engine.dispose()
    assert "birth_date" not in columns and {"id_enc", "id_masked"} <= columns
