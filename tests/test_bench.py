"""Smoke test of ``python -m tools.bench``: every stage runs at scale 1 and reports sane figures.

Not a timed test (speed is reported, never asserted): it proves the command works end to end
(world, HTTP ingestion against a sandbox process, dbt, Great Expectations, publish, the daily
update) and that its baselines did the same work as the pipeline (same pages fetched, same raw
row counts). The bench's figures themselves are measured by hand: ``make bench``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tools.bench import (
    HEADERS,
    NATIONAL_SCALE,
    STAGES,
    ScaleRun,
    StageResult,
    goals,
    load_runs,
    national_estimate,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parent.parent
SCALE = 1.0  # the scale the issue names for the smoke test (about 3 minutes)
EVERY_STAGE = [
    "world",
    "ingest",
    "dbt",
    "checks",
    "publish",
    "daily: ingest",
    "daily: dbt",
    "daily: checks",
    "daily: publish",
]


def _raw_counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name NOT LIKE '\\_%' ESCAPE '\\'"
        ).fetchall()
        return {t: con.execute(f'SELECT count(*) FROM raw."{t}"').fetchone()[0] for (t,) in tables}
    finally:
        con.close()


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    work = tmp_path_factory.mktemp("bench")
    out = work / "benchmarks.md"
    out.write_text("# Benchmarks\n\nProse written by hand stays.\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "tools.bench", "--scale", str(SCALE), "--work", str(work / "run")]
    cmd += ["--out", str(out), "--json", str(work / "bench.json")]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=840)
    return work, result


def test_every_stage_runs_and_reports_sane_figures(bench) -> None:
    work, result = bench
    assert result.returncode == 0, result.stderr[-4000:] + result.stdout[-2000:]
    (run,) = load_runs(work / "bench.json")
    assert [s.name for s in run.stages] == EVERY_STAGE
    world_rows = sum(run.world_rows.values())
    assert world_rows > 10_000
    for s in run.stages:
        assert s.wall_s > 0 and s.cpu_s > 0, s
        assert 50 < s.peak_mib < 8 * 1024, s  # a Python process, not a runaway
        assert s.rows > 0, s
        assert s.note == "", s
    stage = {s.name: s for s in run.stages}
    # the full load holds exactly the world's rows; the daily load merges a small share of them
    assert stage["ingest"].rows == world_rows
    assert 0 < stage["daily: ingest"].rows < world_rows // 5
    for name in ("ingest", "dbt", "checks", "publish", "daily: ingest"):
        s = stage[name]
        assert s.baseline_s and s.baseline_s > 0 and s.ratio and s.ratio > 0, s
    assert stage["checks"].extra["checks"]["passed"] and stage["checks"].extra["baseline"]["checks"] > 100
    assert (
        stage["dbt"].extra["baseline"]["models"] > 50 and stage["dbt"].extra["baseline"]["failing_tests"] == 0
    )
    # the printed table has every stage
    for name in [*EVERY_STAGE, *HEADERS[:4]]:
        assert name in result.stdout, name


def test_baselines_do_the_same_work(bench) -> None:
    work, result = bench
    assert result.returncode == 0, result.stderr[-4000:]
    (run,) = load_runs(work / "bench.json")
    for load in ("ingest", "daily: ingest"):
        api, floor = run.api[load], run.api_floor[load]
        assert api["requests"] > 0 and api["requests"] == floor["requests"], (load, api, floor)
        assert floor["bytes"] > 0
        assert 0 < api["busy_pct"] <= 100 and api["max_in_flight"] >= 1
    # the raw-DuckDB baseline built the same raw tables from the same pages (after the daily merge too)
    pipeline = _raw_counts(work / "run" / "data" / "goszakup.duckdb")
    baseline = _raw_counts(work / "run" / "baseline" / "warehouse.duckdb")
    assert pipeline == {t: baseline.get(t, 0) for t in pipeline}


def test_figures_file_keeps_prose_and_names_machine_and_goals(bench) -> None:
    work, result = bench
    assert result.returncode == 0, result.stderr[-4000:]
    text = (work / "benchmarks.md").read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nProse written by hand stays.")
    assert text.count("<!-- bench:start") == 1 and "<!-- bench:end -->" in text
    assert "Machine: cpu:" in text and "duckdb" in text
    for name in EVERY_STAGE:
        assert f"| {name} |" in text, name
    assert "whole year end to end" in text and "daily incremental update" in text


def test_report_from_saved_runs_rewrites_the_section(bench, tmp_path: Path) -> None:
    work, result = bench
    assert result.returncode == 0, result.stderr[-4000:]
    out = work / "benchmarks.md"
    before = out.read_text(encoding="utf-8")
    report = subprocess.run(
        [sys.executable, "-m", "tools.bench", "--report", str(work / "bench.json"), "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert report.returncode == 0, report.stderr
    after = out.read_text(encoding="utf-8")
    assert after.count("<!-- bench:start") == 1 and len(after) == len(before)


def _run(scale: float, wall: float, peak: float) -> ScaleRun:
    return ScaleRun(scale, 42, 0.0, stages=[StageResult("dbt", wall, wall, peak, int(scale * 1000))])


def test_national_estimate_fits_a_line_through_several_scales() -> None:
    est = national_estimate([_run(10, 30.0, 400.0), _run(50, 110.0, 600.0)])
    wall, peak, how = est["dbt"]
    assert how == "fitted"
    assert wall == pytest.approx(10 + 2 * NATIONAL_SCALE) and peak == pytest.approx(350 + 5 * NATIONAL_SCALE)
    # one scale: an upper bound for time, no guess for memory
    wall, peak, how = national_estimate([_run(10, 30.0, 400.0)])["dbt"]
    assert how == "upper bound" and wall == pytest.approx(30 * NATIONAL_SCALE / 10) and peak is None
    assert goals([_run(10, 30.0, 400.0)]) == []  # no goal can be judged from dbt alone
    assert set(STAGES) == {"world", "ingest", "dbt", "checks", "publish", "daily"}
