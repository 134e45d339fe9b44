"""The README's run command end to end, with a token, and a search for that token everywhere.

``python -m pipelines run`` (what ``make run`` calls) runs in a subprocess against a sandbox that
demands a distinctive token, configured exactly as the real API would be (``GOSZAKUP_TOKEN`` and
``GOSZAKUP_API_BASE_URL``). It must publish a version, leave its run in the Dagster instance with
the metadata a data engineer reads in the UI, and write the token nowhere: not in its output, the
dlt state, the DuckDB warehouse, Dagster's run storage or the published snapshot. Compressed
files are searched decompressed, and DuckDB and Parquet files through their string columns,
since a byte search cannot see inside them.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.settings import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

TOKEN = "tok-Secret-7f3a9c1e-do-not-leak"


@pytest.fixture(scope="module")
def main_run(world_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from sandbox.server import run_sandbox

    root = tmp_path_factory.mktemp("main_job")
    world = root / "world.duckdb"
    shutil.copyfile(world_path, world)
    data_dir, home = root / "data", root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with run_sandbox(world, token=TOKEN) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GOSZAKUP_")}
        env.update(
            GOSZAKUP_TOKEN=TOKEN,
            GOSZAKUP_API_BASE_URL=server.url,
            GOSZAKUP_DATA_DIR=str(data_dir),
            DAGSTER_HOME=str(home),
        )
        proc = subprocess.run(
            [sys.executable, "-m", "pipelines", "run"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=840,
        )
    yield {"proc": proc, "data_dir": data_dir, "home": home, "root": root}


def test_run_command_publishes_a_version(main_run: dict) -> None:
    proc = main_run["proc"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    versions = json.loads((main_run["data_dir"] / "publish" / "versions.json").read_text())
    latest = versions["latest"]
    assert latest and (main_run["data_dir"] / "publish" / latest / "datapackage.json").is_file()
    assert "raw/trd_buy" in proc.stdout and f"version {latest}" in proc.stdout


def test_run_is_in_the_dagster_instance_with_its_metadata(main_run: dict) -> None:
    from dagster import AssetKey, DagsterEventType, DagsterInstance, EventRecordsFilter

    with DagsterInstance.from_config(str(main_run["home"])) as instance:
        runs = instance.get_runs()
        assert len(runs) == 1 and runs[0].job_name == "daily_update" and runs[0].is_success

        def latest(key: list[str]) -> dict:
            mat = instance.get_latest_materialization_event(AssetKey(key)).asset_materialization
            return {k: getattr(v, "value", v) for k, v in mat.metadata.items()}

        trd_buy = latest(["raw", "trd_buy"])
        assert trd_buy["rows_loaded"] > 0 and trd_buy["pages"] > 0
        assert trd_buy["dagster/row_count"] == trd_buy["rows_loaded"]  # first load: every row is new
        assert latest(["raw", "contract"])["rows_in_warehouse"]["contract_units"] > 0
        publish = latest(["publish", "dataset_version"])
        assert publish["checks_passed"] is True and publish["latest_moved"] is True, publish.get("reason")
        checks = instance.get_event_records(
            EventRecordsFilter(event_type=DagsterEventType.ASSET_CHECK_EVALUATION), limit=5000
        )
    names = {r.event_log_entry.dagster_event.event_specific_data.check_name for r in checks}
    assert any(n.startswith("gx_raw_") for n in names) and any(n.startswith("gx_ocds_") for n in names)
    assert len(names) > 50


def _strings_in_duckdb(path: Path, needle: str) -> list[str]:
    """Columns of a DuckDB file that hold ``needle`` somewhere in a value (cast to text)."""
    hits = []
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema not in ('information_schema', 'pg_catalog')"
        ).fetchall()
        for schema, table, column in columns:
            found = con.execute(
                f'select count(*) from "{schema}"."{table}" where cast("{column}" as varchar) like ?',
                [f"%{needle}%"],
            ).fetchone()[0]
            if found:
                hits.append(f"{schema}.{table}.{column}")
    return hits


def _file_holds(path: Path, needle: str) -> bool:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    if path.suffix == ".parquet":
        with duckdb.connect() as con:
            rows = con.execute("select * from read_parquet(?)", [str(path)]).fetchall()
        return needle in repr(rows)
    return needle.encode() in data


def test_token_is_written_nowhere(main_run: dict) -> None:
    proc = main_run["proc"]
    assert TOKEN not in proc.stdout and TOKEN not in proc.stderr, "the token is in the job's output"
    searched, leaks = 0, []
    for path in sorted(p for p in main_run["root"].rglob("*") if p.is_file()):
        if path.name == "world.duckdb" or "sandbox" in path.parts:
            continue  # the sandbox's own world is not ours to search
        searched += 1
        if path.suffix == ".duckdb":
            leaks += [f"{path}: {c}" for c in _strings_in_duckdb(path, TOKEN)]
        elif _file_holds(path, TOKEN):
            leaks.append(str(path))
    kinds = {p.suffix for p in main_run["root"].rglob("*") if p.is_file()}
    assert {".duckdb", ".parquet", ".gz", ".json"} <= kinds, f"the run wrote too little to search: {kinds}"
    assert (main_run["data_dir"] / "dlt").is_dir() and any((main_run["home"] / "storage").rglob("*"))
    assert searched > 50
    assert not leaks, f"the token leaked into: {leaks}"
