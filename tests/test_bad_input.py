"""Malformed user input gets one clear message naming the setting, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CASES = {
    "unknown entity": (
        ["-m", "pipelines.ingest", "--entities", "contract,tenderz"],
        {},
        "unknown entity 'tenderz'",
    ),
    "date in the future": (
        ["-m", "pipelines.ingest"],
        {"GOSZAKUP_INITIAL_DATE": "2999-01-01"},
        "GOSZAKUP_INITIAL_DATE: '2999-01-01' is in the future",
    ),
    "date that is not a date": (
        ["-m", "pipelines", "run"],
        {"GOSZAKUP_INITIAL_DATE": "31.01.2024"},
        "GOSZAKUP_INITIAL_DATE: must look like 2024-01-31",
    ),
    "negative scale": (
        ["-m", "pipelines.ingest", "--scale", "-3"],
        {},
        "GOSZAKUP_SANDBOX_SCALE: Input should be greater than 0",
    ),
    "page size that is not a number": (
        ["-m", "pipelines", "run"],
        {"GOSZAKUP_GRAPHQL_PAGE_SIZE": "many"},
        "GOSZAKUP_GRAPHQL_PAGE_SIZE",
    ),
    "base url without scheme": (
        ["-m", "pipelines.ingest"],
        {"GOSZAKUP_API_BASE_URL": "ows.goszakup.gov.kz"},
        "must start with http:// or https://",
    ),
    "journal start in the future": (
        ["-m", "pipelines.ingest"],
        {"GOSZAKUP_JOURNAL_START_DATE": "2999-12-31"},
        "GOSZAKUP_JOURNAL_START_DATE 2999-12-31 is in the future",
    ),
    "missing CA bundle": (
        ["-m", "pipelines.ingest"],
        {"GOSZAKUP_CA_BUNDLE": "/nonexistent/ca.pem"},
        "GOSZAKUP_CA_BUNDLE points to /nonexistent/ca.pem",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gets_a_clear_error(case: str, tmp_path: Path) -> None:
    args, env, expected = CASES[case]
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("GOSZAKUP_")}
    proc = subprocess.run(
        [sys.executable, *args],
        env={**clean_env, "GOSZAKUP_DATA_DIR": str(tmp_path), **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "goszakup.duckdb").exists(), "nothing may run on invalid settings"
