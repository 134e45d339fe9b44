"""SIGKILL during ingestion, dbt and publishing, then a re-run: the same rows as an undisturbed run.

Each stage runs as its own process in a new session; the test reads its output and kills the
whole process group (``SIGKILL``: no clean-up code runs) the moment a line shows the stage is
half-way: a page of lots extracted, a load job of lots started, an OCDS table being built, a
snapshot table written. Then the stage runs again and must end exactly where an undisturbed run
ends: no row lost, none duplicated, no half-published version visible.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.goszakup_api import ENTITIES
from pipelines.ingest import run_ingestion
from pipelines.settings import REPO_ROOT
from tests.helpers import DBT, DBT_PROJECT, TEST_PREFIX, assert_matches_sandbox, duplicate_keys, settings_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def run_and_kill(command: list[str], env: dict[str, str], trigger: str) -> list[str]:
    """Run ``command``; SIGKILL its process group when an output line contains ``trigger``."""
    proc = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if trigger in line:
            os.killpg(proc.pid, signal.SIGKILL)
            break
    proc.stdout.close()
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL, (
        f"the process ended by itself (exit {proc.returncode}) before {trigger!r}:\n{''.join(seen[-30:])}"
    )
    return seen


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOSZAKUP_")}
    env["GOSZAKUP_OCID_PREFIX"] = TEST_PREFIX  # the prefix the shared dbt-built warehouse was made with
    env.update(values)
    return env


@pytest.mark.parametrize(
    "moment,trigger",
    [
        ("extracting", "from path data.Lots with length"),
        ("loading", "with table name lots"),
    ],
)
def test_kill_during_ingestion_then_rerun(
    moment: str, trigger: str, sandbox, tmp_path: Path, fault_report
) -> None:
    env = _env(
        GOSZAKUP_API_BASE_URL=sandbox.url,
        GOSZAKUP_TOKEN=sandbox.token,
        GOSZAKUP_DATA_DIR=str(tmp_path),
        GOSZAKUP_ENTITIES="lots,contract",
        RUNTIME__LOG_LEVEL="INFO",
    )
    run_and_kill([sys.executable, "-m", "pipelines.ingest", "--no-progress"], env, trigger)

    settings = settings_for(tmp_path, entities=["lots", "contract"])
    run_ingestion(settings, base_url=sandbox.url, token=sandbox.token)
    db = tmp_path / "goszakup.duckdb"
    tables = ENTITIES["lots"].tables() + ENTITIES["contract"].tables()
    counts = assert_matches_sandbox(sandbox, db, tables)
    assert all(n == 0 for n in duplicate_keys(db).values())
    fault_report.add(f"SIGKILL while {moment}", "re-run complete", sum(counts.values()))


def _table_rows(db: Path, schemas: tuple[str, ...]) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in ({', '.join('?' for _ in schemas)}) order by 1, 2",
            list(schemas),
        ).fetchall()
        return {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in tables}


def _dbt(db: Path, target: Path) -> tuple[list[str], dict[str, str]]:
    env = _env(GOSZAKUP_DUCKDB_PATH=str(db), DBT_PROFILES_DIR=str(DBT_PROJECT))
    command = [str(DBT), "build", "--project-dir", str(DBT_PROJECT), "--target-path", str(target)]
    return command, env


@pytest.fixture(scope="module")
def undisturbed(warehouse: Path, built_warehouse) -> dict:
    """The ingested raw layer, the same after one uninterrupted ``dbt build``, and its row counts."""
    built = built_warehouse[0]
    return {"raw": warehouse, "built": built, "rows": _table_rows(built, ("ocds", "risk", "quarantine"))}


def test_kill_during_dbt_then_rerun(undisturbed: dict, tmp_path: Path, fault_report) -> None:
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(undisturbed["raw"], db)
    command, env = _dbt(db, tmp_path / "target")
    run_and_kill(command, env, "START sql incremental model ocds.")

    proc = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]
    rows = _table_rows(db, ("ocds", "risk", "quarantine"))
    assert rows == undisturbed["rows"]
    fault_report.add("SIGKILL during dbt build", "re-run identical", sum(rows.values()))


def _publish(db: Path, root: Path) -> tuple[list[str], dict[str, str]]:
    command = [sys.executable, "-m", "publish", "-v", "build", "--checks-passed", "--warehouse", str(db)]
    return [*command, "--root", str(root)], _env(GOSZAKUP_DATA_DIR=str(root.parent))


def test_kill_during_publish_then_rerun(undisturbed: dict, tmp_path: Path, fault_report) -> None:
    reference, interrupted = tmp_path / "reference" / "publish", tmp_path / "interrupted" / "publish"
    for root in (reference, interrupted):
        root.parent.mkdir(parents=True)
    command, env = _publish(undisturbed["built"], reference)
    assert subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, timeout=600).returncode == 0

    command, env = _publish(undisturbed["built"], interrupted)
    run_and_kill(command, env, "wrote ")
    visible = (
        [p.name for p in interrupted.iterdir() if not p.name.startswith(".")] if interrupted.exists() else []
    )
    index = interrupted / "versions.json"
    assert not index.exists() or json.loads(index.read_text())["latest"] is None
    assert not [v for v in visible if v[:1].isdigit()], f"a half version is visible: {visible}"

    proc = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert not [p for p in interrupted.iterdir() if p.name.startswith(".staging")], "staging left behind"
    ref_latest = json.loads((reference / "versions.json").read_text())["latest"]
    new_latest = json.loads(index.read_text())["latest"]
    assert new_latest is not None
    ref_files = json.loads((reference / ref_latest / "datapackage.json").read_text())["resources"]
    new_files = json.loads((interrupted / new_latest / "datapackage.json").read_text())["resources"]
    hashes = lambda resources: {r["path"]: r.get("hash") for r in resources}  # noqa: E731
    assert hashes(new_files) == hashes(ref_files), (
        "the re-run must write the same bytes as an undisturbed run"
    )
    fault_report.add("SIGKILL during publish", "re-run byte-identical", sum(undisturbed["rows"].values()))
