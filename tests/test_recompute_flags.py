"""A published version's flags can be recomputed from the version's own files (``python -m publish
recompute-flags``): the session's real ``dbt build`` of the scale-1 sandbox is published, its risk
tables are rebuilt in a temporary DuckDB by the same dbt risk models from nothing but the version's
Parquet files, and every risk table is byte-identical; a copy whose process flags were tampered
with is caught, with the count of rows that differ.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from publish import recompute
from publish.__main__ import main as publish_main
from publish.snapshot import publish_version
from tests.conftest import settings_for
from tests.helpers import TEST_PREFIX


@pytest.fixture(scope="module")
def version(built_warehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db, result, work = built_warehouse
    assert result.returncode == 0, result.stdout[-3000:]
    root = tmp_path_factory.mktemp("recompute-publish")
    published = publish_version(
        db,
        root / "publish",
        checks_passed=True,
        checks_summary={"success": True},
        dbt_summary=None,
        source=None,
        dbt_manifest=work / "target" / "manifest.json",
        schemas=["ocds", "risk", "quarantine"],
        options=settings_for(root, ocid_prefix=TEST_PREFIX).publish_options(),
    )
    return published.path


@pytest.fixture(scope="module")
def rebuilt(version: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("recompute-work")
    return recompute.rebuild(version, work), work


def test_recomputed_flags_are_identical(version: Path, rebuilt) -> None:
    db, work = rebuilt
    result = recompute.compare(db, version, work)
    names = {t.table for t in result.tables}
    assert {"risk.process_flags", "risk.organisation_flags", "risk.risk_meta", "risk.flag_catalogue"} <= names
    assert result.identical, result.lines()
    flags = next(t for t in result.tables if t.table == "risk.process_flags")
    assert flags.rows > 1000
    # the inputs came from the version's files only: the rebuilt database has no goszakup layer (the
    # only staging table is the flag catalogue seed, code of the project)
    with duckdb.connect(str(db), read_only=True) as con:
        tables = set(con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall())
    schemas = {s for s, _ in tables}
    assert "raw" not in schemas and "ocds" not in schemas and "quarantine" not in schemas
    assert {t for s, t in tables if s == "staging"} == {"risk_flags"}


def test_tampered_copy_is_caught(version: Path, rebuilt, tmp_path: Path) -> None:
    db, work = rebuilt
    copy = tmp_path / version.name
    shutil.copytree(version, copy)
    flags = copy / "risk" / "process_flags.parquet"
    with duckdb.connect() as con:
        ocid, code = con.execute(
            f"SELECT ocid, flag_code FROM read_parquet('{flags}') WHERE status = 'flagged' ORDER BY ocid, flag_code LIMIT 1"
        ).fetchone()
        tampered = tmp_path / "tampered.parquet"
        con.execute(
            f"COPY (SELECT * REPLACE (CASE WHEN ocid = '{ocid}' AND flag_code = '{code}' THEN 'not_flagged' "
            f"ELSE status END AS status) FROM read_parquet('{flags}')) TO '{tampered}' (FORMAT parquet)"
        )
    shutil.move(tampered, flags)
    result = recompute.compare(db, copy, work)
    assert not result.identical
    bad = [t for t in result.tables if not t.identical]
    assert [t.table for t in bad] == ["risk.process_flags"]
    assert (bad[0].only_published, bad[0].only_recomputed) == (1, 1)
    assert any(line.startswith("DIFFERENT  risk.process_flags") for line in result.lines())


def test_cli_names_a_missing_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert publish_main(["recompute-flags", "no-such-version", "--root", str(tmp_path)]) == 2
    assert "no-such-version" in capsys.readouterr().err
