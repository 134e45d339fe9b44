"""``python -m tools.bench``: time and memory of every pipeline stage, next to a raw-DuckDB baseline.

Why a command and not a timed test: speed depends on the machine, so the figures are printed (and
written to ``docs/benchmarks.md`` with ``--out``) for a person to read, not asserted.

What it does, for each ``--scale`` (1 is a small world, 450 a national year):

1. ``world``: builds the sandbox world (``python -m sandbox build``), or copies ``--world``.
2. ``ingest``: serves the world with the sandbox in a process of its own (``--rate-limit`` requests/s,
   0 none) and runs the full load ``python -m pipelines.ingest`` against it; then fetches every
   page again with plain HTTP (the "API floor"), and loads the dumped JSON with ``read_json`` in
   one DuckDB process (the baseline).
3. ``dbt``: ``dbt build``; baseline: the compiled SQL of every model and data test run directly.
4. ``checks``: the Great Expectations suites of the raw, OCDS and risk layers (``validate_layer``
   with reports, as the pipeline runs them); baseline: every check as an SQL aggregate.
5. ``publish``: ``python -m publish build``; baseline: ``COPY`` of the same tables to Parquet and
   gzipped CSV.
6. ``daily``: advances the world one epoch (``POST /_sandbox/advance``: ~0.5 % of rows changed),
   then the incremental load, dbt, checks and publish again (the daily update); baseline of the
   load: the delta pages merged into the baseline's raw tables with SQL.

Every stage and every baseline runs in a child process, so its wall time, CPU time and peak
resident memory (``os.wait4``) are its own. Printed per stage: wall s, CPU s, peak MiB, rows,
rows/s, baseline s and the ratio to it; and how busy the API was during each load (requests/s
against the rate limit, share of the load with a request in flight, mean concurrency), from the
sandbox's ``/_sandbox/stats``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb

from pipelines.settings import REPO_ROOT, SANDBOX_TOKEN, InvalidSettings, load_settings

STAGES = ("world", "ingest", "dbt", "checks", "publish", "daily")
NATIONAL_SCALE = 450
#: The goals of issue 8 (national year, 2 cores).
GOAL_TOTAL_S = 15 * 60
GOAL_PEAK_MIB = 6 * 1024
GOAL_RATIO = 3.0
GOAL_DAILY_S = 2 * 60
PYTHON = sys.executable
DBT = str(Path(sys.executable).with_name("dbt"))


class BenchError(RuntimeError):
    """A stage failed; the message names it and ends with the tail of its log."""


# --- measuring child processes ------------------------------------------------------------------


@dataclass
class Measured:
    wall_s: float
    cpu_s: float
    peak_mib: float
    stdout: str = ""


#: A stage whose resident memory passes this is stopped (``--max-memory-gib``): on a machine shared
#: with other work a runaway stage must fail alone, not take the machine down with it.
MAX_MEMORY_MIB = [0.0]


def _rss_mib(pid: int) -> float:
    try:
        match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return 0.0
    return int(match.group(1)) / 1024 if match else 0.0


def run_measured(name: str, cmd: Sequence[str], *, env: dict[str, str], cwd: Path, logs: Path) -> Measured:
    """Run ``cmd`` to completion; wall, CPU (user + system) and peak RSS of that child alone."""
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / f"{name}.out", logs / f"{name}.err"
    limit = MAX_MEMORY_MIB[0]
    stopped = False
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.monotonic()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, env=env, cwd=cwd)
        try:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if limit and not stopped and _rss_mib(proc.pid) > limit:
                    proc.kill()
                    stopped = True
                time.sleep(0.2)
        except BaseException:  # Ctrl-C: the stage does not outlive the benchmark
            proc.kill()
            proc.wait()
            raise
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_text(encoding="utf-8", errors="replace")
    # ru_maxrss is in KiB on Linux
    measured = Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stdout)
    if stopped:
        raise StageFailed(
            name, measured, f"stopped at {limit / 1024:.1f} GiB of resident memory (--max-memory-gib)"
        )
    if proc.returncode != 0:
        tail = (err_path.read_text(encoding="utf-8", errors="replace") + stdout)[-3000:]
        why = "killed by signal 9 (out of memory?)" if proc.returncode == -9 else f"exit {proc.returncode}"
        raise StageFailed(name, measured, f"{why}; logs in {logs}", tail)
    return measured


class StageFailed(BenchError):
    """A stage's process failed or was stopped; what it used until then is kept for the report."""

    def __init__(self, name: str, measured: Measured, why: str, tail: str = "") -> None:
        super().__init__(f"{name}: {why}" + (f"\n{tail}" if tail else ""))
        self.name, self.measured, self.why = name, measured, why


def _child_env(**extra: str) -> dict[str, str]:
    """The parent's environment without GOSZAKUP_* (stages get exactly the settings given here)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOSZAKUP_")}
    env.update(DBT_SEND_ANONYMOUS_USAGE_STATS="false", GX_ANALYTICS_ENABLED="false", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def _proc_times(pid: int) -> tuple[float, float]:
    """(CPU seconds, peak RSS MiB) of a running process, from /proc (0 where unavailable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        status = Path(f"/proc/{pid}/status").read_text()
        hwm = re.search(r"VmHWM:\s+(\d+) kB", status)
        return cpu, int(hwm.group(1)) / 1024 if hwm else 0.0
    except (OSError, ValueError, IndexError):
        return 0.0, 0.0


# --- the sandbox as a separate process -----------------------------------------------------------


class SandboxProcess:
    """``python -m sandbox serve`` over a world file, on a free port of 127.0.0.1."""

    def __init__(self, world: Path, rate_limit: float, logs: Path) -> None:
        self.world, self.rate_limit, self.logs = world, rate_limit, logs
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> SandboxProcess:
        self.logs.mkdir(parents=True, exist_ok=True)
        cmd = [PYTHON, "-m", "sandbox", "serve", "--world", str(self.world), "--host", "127.0.0.1"]
        cmd += ["--port", "0", "--rate-limit", str(self.rate_limit)]
        self._err = open(self.logs / "sandbox.err", "wb")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=self._err, env=_child_env(), text=True
        )
        deadline = time.monotonic() + 600
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("url:"):
                self.url = line.split(None, 1)[1].strip()
                break
            if time.monotonic() > deadline:
                break
        if not self.url:
            self.__exit__()
            raise BenchError(f"the sandbox did not start; see {self.logs / 'sandbox.err'}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._err.close()

    def call(self, method: str, path: str) -> Any:
        req = urllib.request.Request(
            self.url + path, method=method, headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"}
        )
        with urllib.request.urlopen(req, timeout=3600) as resp:
            return json.loads(resp.read())

    def usage(self, *, open_window: bool = False) -> dict[str, Any]:
        """The server's counters plus its process's CPU seconds and peak memory so far.

        ``open_window``: start a new span of ``api_window_s`` (first request to last answer).
        """
        stats = self.call("POST" if open_window else "GET", "/_sandbox/stats")
        assert self.proc is not None
        stats["cpu_s"], stats["peak_mib"] = _proc_times(self.proc.pid)
        return stats


def api_usage(
    before: dict[str, Any], after: dict[str, Any], wall_s: float, rate_limit: float
) -> dict[str, Any]:
    """How busy the API was during one load (differences of the sandbox's counters).

    ``requests`` are the answered ones (a 429 is counted apart), so ``use_of_limit_pct`` is the
    share of the rate limit the load turned into answers while it talked to the API (from its
    first request to its last answer, ``api_window_s``, when ``before`` opened a window; else over
    the whole wall time, start-up and post-processing included).
    """
    rejected = after["rate_limited"] - before["rate_limited"]
    served = after["requests"] - before["requests"] - rejected
    busy = after.get("api_busy_s", 0.0) - before.get("api_busy_s", 0.0)
    area = after.get("api_inflight_area_s", 0.0) - before.get("api_inflight_area_s", 0.0)
    rps = served / wall_s if wall_s else 0.0
    window = after.get("api_window_s") or 0.0
    window_rps = served / window if window else rps
    return {
        "requests": served,
        "api_window_s": round(window, 1),
        "rejected_429": rejected,
        "requests_per_s": round(rps, 1),
        "rate_limit": rate_limit,
        "use_of_limit_pct": round(100 * window_rps / rate_limit, 1) if rate_limit else None,
        "busy_pct": round(100 * busy / wall_s, 1) if wall_s else None,
        "mean_in_flight": round(area / wall_s, 2) if wall_s else None,
        "max_in_flight": after.get("api_inflight_max"),
        "sandbox_cpu_s": round(after["cpu_s"] - before["cpu_s"], 1),
        "sandbox_peak_mib": round(after["peak_mib"], 1),
    }


# --- results ---------------------------------------------------------------------------------------


@dataclass
class StageResult:
    name: str
    wall_s: float
    cpu_s: float
    peak_mib: float
    rows: int
    baseline_s: float | None = None
    baseline_peak_mib: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.wall_s if self.wall_s else 0.0

    @property
    def ratio(self) -> float | None:
        return self.wall_s / self.baseline_s if self.baseline_s else None


@dataclass
class ScaleRun:
    scale: float
    seed: int
    rate_limit: float
    stages: list[StageResult] = field(default_factory=list)
    world_rows: dict[str, int] = field(default_factory=dict)
    api: dict[str, dict[str, Any]] = field(default_factory=dict)  # stage -> api usage
    api_floor: dict[str, dict[str, Any]] = field(default_factory=dict)  # stage -> plain HTTP crawl
    failed: str = ""
    raw_from_world: bool = False
    client_rate_limit: float = 0.0  # GOSZAKUP_API_RATE_LIMIT of the pipeline's loads (0: none)

    def stage(self, name: str) -> StageResult | None:
        return next((s for s in self.stages if s.name == name), None)


# --- counting rows ---------------------------------------------------------------------------------


def _table_counts(
    db: Path, schemas: Sequence[str] | None = None, *, exclude: Sequence[str] = ()
) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
        out = {}
        for schema, table in rows:
            if (
                (schemas is not None and schema not in schemas)
                or schema in exclude
                or table.startswith("_dlt")
            ):
                continue
            out[f"{schema}.{table}"] = con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
        return out
    finally:
        con.close()


def world_counts(world: Path) -> dict[str, int]:
    """Rows of the API's tables in a world file (not its ground truth and metadata)."""
    counts = _table_counts(world, ["main"])
    return {
        k.split(".", 1)[1]: v for k, v in counts.items() if not k.endswith(("ground_truth", "world_meta"))
    }


def last_load_rows(db: Path) -> int:
    """Rows written by the warehouse's latest dlt load (an incremental run's merged rows)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        load_id = con.execute("SELECT max(load_id) FROM raw._dlt_loads").fetchone()[0]
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_columns() WHERE schema_name = 'raw' AND column_name = '_dlt_load_id' "
                "AND database_name = current_database()"
            ).fetchall()
        ]
        return sum(
            con.execute(f'SELECT count(*) FROM raw."{t}" WHERE _dlt_load_id = ?', [load_id]).fetchone()[0]
            for t in tables
            if not t.startswith("_dlt")
        )
    finally:
        con.close()


# --- the stages ------------------------------------------------------------------------------------


class Bench:
    """One benchmark run at one scale in ``work`` (a folder of its own)."""

    def __init__(
        self,
        work: Path,
        *,
        scale: float,
        seed: int,
        rate_limit: float,
        world: Path | None,
        baselines: bool,
        raw_from_world: bool = False,
        client_rate_limit: float = 0.0,
    ) -> None:
        self.work = work
        self.logs = work / "logs"
        self.data = work / "data"
        self.warehouse = self.data / "goszakup.duckdb"
        self.baseline_dir = work / "baseline"
        self.world_src = world
        self.world = work / "world.duckdb"  # pristine epoch-0 world
        self.served = work / "world-served.duckdb"  # the copy the sandbox serves and advances
        self.run = ScaleRun(
            scale, seed, rate_limit, raw_from_world=raw_from_world, client_rate_limit=client_rate_limit
        )
        self.baselines = baselines
        self._console = _console()

    def say(self, text: str) -> None:
        self._console.print(f"[dim]{dt.datetime.now():%H:%M:%S}[/dim] x{self.run.scale:g} {text}")

    def _python(self, name: str, args: Sequence[str], **env: str) -> Measured:
        return run_measured(name, [PYTHON, *args], env=_child_env(**env), cwd=self.work, logs=self.logs)

    def _baseline(self, name: str, *args: str) -> tuple[Measured, dict[str, Any]]:
        m = self._python(f"baseline-{name}", ["-m", "tools.bench", "--baseline", name, *args])
        return m, json.loads(m.stdout.strip().splitlines()[-1])

    def _ingest_env(self, url: str) -> dict[str, str]:
        from sandbox.world import EPOCH_BASE

        return {
            "GOSZAKUP_DATA_DIR": str(self.data),
            "GOSZAKUP_API_BASE_URL": url,
            "GOSZAKUP_TOKEN": SANDBOX_TOKEN,
            # the sandbox's journal starts on its first epoch day (as for the in-process sandbox)
            "GOSZAKUP_JOURNAL_START_DATE": EPOCH_BASE.date().isoformat(),
            "GOSZAKUP_API_RATE_LIMIT": str(self.run.client_rate_limit),
        }

    # world
    def stage_world(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        if self.world_src is not None:
            shutil.copyfile(self.world_src, self.world)
            self.run.world_rows = world_counts(self.world)
            self.say(f"world: copied {self.world_src} ({sum(self.run.world_rows.values()):,} rows)")
            return
        self.say("world: building")
        self.world.unlink(missing_ok=True)
        m = self._python(
            "world",
            ["-m", "sandbox", "build", "--seed", str(self.run.seed), "--scale", str(self.run.scale)]
            + ["--out", str(self.world)],
        )
        self.run.world_rows = world_counts(self.world)
        self.run.stages.append(
            StageResult("world", m.wall_s, m.cpu_s, m.peak_mib, sum(self.run.world_rows.values()))
        )

    def _need(self, path: Path, stage: str) -> None:
        if not path.exists():
            raise BenchError(f"{stage} needs {path}: run the earlier stages first (or pass --work of a run)")

    # ingest and daily ingest
    def stage_raw_from_world(self) -> None:
        self.say("ingest: raw layer copied from the world (--raw-from-world: no API, no dlt)")
        self.data.mkdir(parents=True, exist_ok=True)
        m = self._python(
            "ingest",
            ["-m", "tools.bench", "--baseline", "raw-from-world", str(self.world), str(self.warehouse)],
        )
        rows = sum(_table_counts(self.warehouse, ["raw"]).values())
        self.run.stages.append(
            StageResult(
                "ingest", m.wall_s, m.cpu_s, m.peak_mib, rows, note="raw copied from the world, not loaded"
            )
        )

    def stage_ingest(self, sandbox: SandboxProcess) -> None:
        self.say("ingest: full load")
        before = sandbox.usage(open_window=True)
        m = self._python(
            "ingest", ["-m", "pipelines.ingest", "--no-progress"], **self._ingest_env(sandbox.url)
        )
        after = sandbox.usage()
        self.run.api["ingest"] = api_usage(before, after, m.wall_s, self.run.rate_limit)
        rows = sum(_table_counts(self.warehouse, ["raw"]).values())
        result = StageResult("ingest", m.wall_s, m.cpu_s, m.peak_mib, rows)
        self.run.stages.append(result)
        if not self.baselines:
            return
        self.say("ingest: API floor (plain HTTP) and raw-DuckDB baseline")
        from sandbox.world import EPOCH_BASE
        from tools.bench_baselines import dump_api

        dump = self.baseline_dir / "dump-full"
        shutil.rmtree(dump, ignore_errors=True)
        before = sandbox.usage(open_window=True)
        floor = dump_api(sandbox.url, SANDBOX_TOKEN, dump, journal_from=EPOCH_BASE.date())
        self.run.api_floor["ingest"] = {
            **floor,
            **api_usage(before, sandbox.usage(), floor["seconds"], self.run.rate_limit),
        }
        raw = self.baseline_dir / "warehouse.duckdb"
        raw.unlink(missing_ok=True)
        bm, out = self._baseline("ingest", str(dump), str(raw))
        result.baseline_s, result.baseline_peak_mib = out["seconds"], bm.peak_mib

    def stage_daily_ingest(self, sandbox: SandboxProcess) -> None:
        self.say("daily: advancing the world one epoch")
        cursors = self._cursors() if self.baselines else {}
        started = time.monotonic()
        summary = sandbox.call("POST", "/_sandbox/advance?epochs=1")
        advance_s = time.monotonic() - started
        self.say("daily: incremental load")
        before = sandbox.usage(open_window=True)
        m = self._python(
            "daily-ingest", ["-m", "pipelines.ingest", "--no-progress"], **self._ingest_env(sandbox.url)
        )
        after = sandbox.usage()
        self.run.api["daily: ingest"] = api_usage(before, after, m.wall_s, self.run.rate_limit)
        changed = {table: sum(counts.values()) for table, counts in summary.items()}
        result = StageResult(
            "daily: ingest",
            m.wall_s,
            m.cpu_s,
            m.peak_mib,
            last_load_rows(self.warehouse),
            extra={"advance_s": round(advance_s, 2), "advance": changed},
        )
        self.run.stages.append(result)
        if not self.baselines:
            return
        from sandbox.world import EPOCH_BASE
        from tools.bench_baselines import dump_api

        dump = self.baseline_dir / "dump-daily"
        shutil.rmtree(dump, ignore_errors=True)
        before = sandbox.usage(open_window=True)
        floor = dump_api(sandbox.url, SANDBOX_TOKEN, dump, cursors=cursors, journal_from=EPOCH_BASE.date())
        self.run.api_floor["daily: ingest"] = {
            **floor,
            **api_usage(before, sandbox.usage(), floor["seconds"], self.run.rate_limit),
        }
        bm, out = self._baseline("merge", str(dump), str(self.baseline_dir / "warehouse.duckdb"))
        result.baseline_s, result.baseline_peak_mib = out["seconds"], bm.peak_mib

    def _cursors(self) -> dict[str, str]:
        """Last cursor value per GraphQL entity in the baseline's raw tables (what dlt's state holds)."""
        from pipelines.goszakup_api import ENTITIES

        raw = self.baseline_dir / "warehouse.duckdb"
        if not raw.exists():
            return {}
        con = duckdb.connect(str(raw), read_only=True)
        try:
            out = {}
            for e in ENTITIES.values():
                if e.default_api == "graphql" and e.cursor:
                    value = con.execute(f'SELECT max("{e.cursor}") FROM raw."{e.name}"').fetchone()[0]
                    if value:
                        out[e.name] = value
            return out
        finally:
            con.close()

    # dbt
    def stage_dbt(self, name: str = "dbt") -> None:
        self._need(self.warehouse, name)
        base_db = self.baseline_dir / "dbt" / "goszakup.duckdb"  # the same catalog name as the warehouse
        if self.baselines and name == "dbt":
            base_db.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.warehouse, base_db)  # raw layer only: not timed
        self.say(f"{name}: dbt build")
        target = self.work / "dbt" / "target"
        m = run_measured(
            name.replace(": ", "-"),
            [
                DBT,
                "build",
                "--project-dir",
                str(REPO_ROOT / "dbt_project"),
                "--profiles-dir",
                str(REPO_ROOT / "dbt_project"),
            ]
            + ["--target-path", str(target), "--log-path", str(self.work / "dbt" / "logs")],
            env=_child_env(GOSZAKUP_DUCKDB_PATH=str(self.warehouse)),
            cwd=self.work,
            logs=self.logs,
        )
        rows = sum(_table_counts(self.warehouse, exclude=("raw", "main")).values())
        result = StageResult(name, m.wall_s, m.cpu_s, m.peak_mib, rows)
        self.run.stages.append(result)
        if self.baselines and name == "dbt":
            self._python(
                "baseline-dbt-prepare",
                ["-m", "tools.bench", "--baseline", "dbt-prepare"]
                + [str(target / "manifest.json"), str(base_db), str(self.warehouse)],
            )
            bm, out = self._baseline("dbt", str(target / "manifest.json"), str(base_db))
            result.baseline_s, result.baseline_peak_mib = out["seconds"], bm.peak_mib
            result.extra["baseline"] = {k: v for k, v in out.items() if k != "seconds"}

    # checks
    def stage_checks(self, name: str = "checks") -> None:
        self._need(self.warehouse, name)
        self.say(f"{name}: Great Expectations suites")
        m = self._python(
            name.replace(": ", "-"),
            ["-m", "tools.bench", "--run-checks", str(self.warehouse), str(self.work / "gx")],
        )
        summary = json.loads(m.stdout.strip().splitlines()[-1])
        rows = sum(_table_counts(self.warehouse, ["raw", "ocds", "risk"]).values())
        result = StageResult(name, m.wall_s, m.cpu_s, m.peak_mib, rows, extra={"checks": summary})
        if not summary["passed"]:
            result.note = f"{summary['failed_errors']} error-level check(s) failed"
        self.run.stages.append(result)
        if self.baselines and name == "checks":
            bm, out = self._baseline("checks", str(self.warehouse))
            result.baseline_s, result.baseline_peak_mib = out["seconds"], bm.peak_mib
            result.extra["baseline"] = {k: v for k, v in out.items() if k != "seconds"}

    # publish
    def stage_publish(self, name: str = "publish") -> None:
        self._need(self.warehouse, name)
        self.say(f"{name}: publish build")
        manifest = self.work / "dbt" / "target" / "manifest.json"
        args = [
            "-m",
            "publish",
            "build",
            "--warehouse",
            str(self.warehouse),
            "--root",
            str(self.data / "publish"),
        ]
        args += ["--checks-summary", str(self.work / "gx" / "checks.summary.json")]
        if manifest.exists():
            args += ["--dbt-manifest", str(manifest)]
        m = self._python(name.replace(": ", "-"), args, GOSZAKUP_DATA_DIR=str(self.data))
        out = json.loads(m.stdout[m.stdout.index("{") :])
        rows = sum(out.get("rows", {}).values())
        result = StageResult(name, m.wall_s, m.cpu_s, m.peak_mib, rows, extra={"version": out.get("version")})
        if not out.get("published"):
            result.note = "no new version (same data as latest)" if out.get("version") else "not published"
        self.run.stages.append(result)
        if self.baselines and name == "publish":
            target = self.baseline_dir / "publish"
            shutil.rmtree(target, ignore_errors=True)
            bm, res = self._baseline("publish", str(self.warehouse), str(target))
            result.baseline_s, result.baseline_peak_mib = res["seconds"], bm.peak_mib

    def daily_baselines(self) -> None:
        """dbt, checks and publish rebuild everything every day: their baselines are the full ones."""
        for name in ("dbt", "checks", "publish"):
            full, daily = self.run.stage(name), self.run.stage(f"daily: {name}")
            if full and daily and full.baseline_s:
                daily.baseline_s, daily.baseline_peak_mib = full.baseline_s, full.baseline_peak_mib

    def execute(self, stages: Sequence[str]) -> ScaleRun:
        """Run ``stages`` in order; a failed stage ends the run and is reported as a row of its own."""
        try:
            self._execute(stages)
        except StageFailed as exc:
            m = exc.measured
            name = exc.name.replace("-", ": ", 1) if exc.name.startswith("daily-") else exc.name
            self.run.stages.append(
                StageResult(name, m.wall_s, m.cpu_s, m.peak_mib, 0, note=f"FAILED: {exc.why}")
            )
            self.run.failed = str(exc)
            self.say(f"[red]{exc}[/red]")
        return self.run

    def _execute(self, stages: Sequence[str]) -> None:
        if "world" in stages:
            shutil.rmtree(self.work, ignore_errors=True)
            self.stage_world()
        else:
            self._need(self.world, "the benchmark")
            self.run.world_rows = world_counts(self.world)
        if self.run.raw_from_world:
            if "ingest" in stages:
                shutil.rmtree(self.data, ignore_errors=True)
                shutil.rmtree(self.work / "gx", ignore_errors=True)
                self.stage_raw_from_world()
            stages = [s for s in stages if s not in ("ingest", "daily")]
        needs_api = "ingest" in stages or "daily" in stages
        with contextlib.ExitStack() as stack:
            sandbox = None
            if needs_api:
                if "ingest" in stages:
                    shutil.copyfile(self.world, self.served)
                    shutil.rmtree(self.data, ignore_errors=True)
                    shutil.rmtree(self.work / "gx", ignore_errors=True)
                self._need(self.served, "daily")
                sandbox = stack.enter_context(SandboxProcess(self.served, self.run.rate_limit, self.logs))
            if "ingest" in stages:
                self.stage_ingest(sandbox)
            if "dbt" in stages:
                self.stage_dbt()
            if "checks" in stages:
                self.stage_checks()
            if "publish" in stages:
                self.stage_publish()
            if "daily" in stages:
                self.stage_daily_ingest(sandbox)
                stack.close()  # the API is not needed by the rest
                self.stage_dbt("daily: dbt")
                self.stage_checks("daily: checks")
                self.stage_publish("daily: publish")
                self.daily_baselines()


# --- the checks stage's child process -------------------------------------------------------------


def run_checks(warehouse: Path, report_root: Path) -> dict[str, Any]:
    """The GX suites of every layer, with reports (as the pipeline runs them); a summary for publish."""
    from expectations import validate_layer

    layers = {}
    for layer in ("raw", "ocds", "risk"):
        outcome = validate_layer(warehouse, layer, report_dir=report_root / layer)
        layers[layer] = {"checks": len(outcome.results), "failed_errors": len(outcome.failures("error"))}
    passed = all(v["failed_errors"] == 0 for v in layers.values())
    summary = {
        "success": passed,
        "passed": passed,
        "checks": sum(v["checks"] for v in layers.values()),
        "failed_errors": sum(v["failed_errors"] for v in layers.values()),
        "layers": layers,
    }
    report_root.mkdir(parents=True, exist_ok=True)
    (report_root / "checks.summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return summary


def run_baseline(name: str, args: Sequence[str]) -> dict[str, Any]:
    """One baseline in this process; ``seconds`` is the timed part (set-up such as seed copies excluded)."""
    from pipelines import bench_baselines as b

    if name == "checks":
        import expectations.suites  # noqa: F401 - importing Great Expectations is not the checks' work
    started = time.monotonic()
    if name == "ingest":
        out: dict[str, Any] = {"tables": len(b.ingest(Path(args[0]), Path(args[1])))}
    elif name == "raw-from-world":
        out = {"tables": len(b.raw_from_world(Path(args[0]), Path(args[1])))}
    elif name == "merge":
        out = {"changed": b.merge_delta(Path(args[0]), Path(args[1]))}
    elif name == "dbt-prepare":
        b.dbt_prepare(Path(args[0]), Path(args[1]), Path(args[2]))
        out = {}
    elif name == "dbt":
        out = b.dbt_models(Path(args[0]), Path(args[1]))
    elif name == "checks":
        out = b.checks(Path(args[0]))
    elif name == "publish":
        rows = b.publish(Path(args[0]), Path(args[1]))
        copy_s = rows.pop("__copy_seconds__")
        return {"seconds": copy_s, "tables": len(rows), "rows": sum(rows.values())}
    else:
        raise BenchError(f"unknown baseline {name!r}")
    return {"seconds": round(time.monotonic() - started, 3), **out}


# --- the machine -----------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = ""
    with contextlib.suppress(OSError, AttributeError):
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        ram = f"{pages / 2**30:.1f} GiB"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = []
    for pkg in ("dlt", "duckdb", "dbt-core", "dbt-duckdb", "great-expectations", "pyarrow", "dagster"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{pkg} {metadata.version(pkg)}")
    return {
        "cpu": cpu,
        "cores": f"{cores} usable ({os.cpu_count()} online)",
        "ram": ram,
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": ", ".join(versions),
    }


# --- reporting --------------------------------------------------------------------------------------


def _console():
    from rich.console import Console

    return Console(stderr=True, width=None if sys.stderr.isatty() else 160)


def _fmt(value: float | None, digits: int = 1, suffix: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}{suffix}"


PIPELINE = ("ingest", "dbt", "checks", "publish")
DAILY = ("daily: ingest", "daily: dbt", "daily: checks", "daily: publish")


def table_rows(run: ScaleRun) -> list[list[str]]:
    """The figures table (one row per stage, plus the totals of the full run and the daily run)."""
    rows = []
    for s in run.stages:
        rows.append(
            [
                s.name,
                _fmt(s.wall_s),
                _fmt(s.cpu_s),
                _fmt(s.peak_mib, 0),
                f"{s.rows:,}",
                _fmt(s.rows_per_s, 0),
                _fmt(s.baseline_s, 2),
                _fmt(s.ratio, 1, "x"),
                s.note,
            ]
        )
    for label, names in (("total (ingest..publish)", PIPELINE), ("total daily update", DAILY)):
        parts = [s for s in run.stages if s.name in names]
        if len(parts) == len(names):
            wall = sum(s.wall_s for s in parts)
            base = [s.baseline_s for s in parts]
            base_s = sum(base) if all(base) else None  # type: ignore[arg-type]
            rows.append(
                [
                    label,
                    _fmt(wall),
                    _fmt(sum(s.cpu_s for s in parts)),
                    _fmt(max(s.peak_mib for s in parts), 0),
                    "",
                    "",
                    _fmt(base_s, 2),
                    _fmt(wall / base_s if base_s else None, 1, "x"),
                    "",
                ]
            )
    return rows


HEADERS = ["stage", "wall s", "CPU s", "peak MiB", "rows", "rows/s", "baseline s", "ratio", "note"]


def api_rows(run: ScaleRun) -> list[list[str]]:
    rows = []
    for label, usage in [
        *run.api.items(),
        *((f"{k} (plain HTTP floor)", v) for k, v in run.api_floor.items()),
    ]:
        limit = usage["rate_limit"]
        rows.append(
            [
                label,
                f"{usage['requests']:,}",
                _fmt(usage.get("api_window_s")),
                _fmt(usage["requests_per_s"]),
                _fmt(limit, 0) if limit else "none",
                _fmt(usage["use_of_limit_pct"], 0, " %"),
                _fmt(usage["busy_pct"], 0, " %"),
                _fmt(usage["mean_in_flight"], 2),
                str(usage["max_in_flight"]),
                str(usage["rejected_429"]),
                _fmt(usage["sandbox_cpu_s"]),
            ]
        )
    return rows


API_HEADERS = [
    "load",
    "answered requests",
    "API window s",
    "answered/s",
    "limit",
    "use of limit",
    "API busy",
    "mean in flight",
    "max in flight",
    "429",
    "sandbox CPU s",
]


def print_run(run: ScaleRun) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 160)
    world = sum(run.world_rows.values())
    table = Table(
        title=f"pipeline benchmark, scale {run.scale:g} (seed {run.seed}, {world:,} rows in the world)"
    )
    for h in HEADERS:
        table.add_column(h, justify="left" if h in ("stage", "note") else "right")
    for row in table_rows(run):
        table.add_row(*row)
    console.print(table)
    if run.api or run.api_floor:
        api = Table(title="API use during the loads")
        for h in API_HEADERS:
            api.add_column(h, justify="left" if h == "load" else "right")
        for row in api_rows(run):
            api.add_row(*row)
        console.print(api)


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _comparable(run: ScaleRun, s: StageResult | None) -> bool:
    """False for a failed stage, a raw layer copied instead of loaded, a rate-limited load."""
    if s is None or s.note.startswith("FAILED"):
        return False
    return not ("ingest" in s.name and (run.raw_from_world or run.rate_limit))


def national_estimate(runs: Sequence[ScaleRun]) -> dict[str, tuple[float, float | None, str]]:
    """Stage -> (wall s, peak MiB, how) at scale 450: measured, or extrapolated from the runs.

    With two or more scales: a least-squares line through (scale, value) for time and memory.
    With one: time scaled by 450 / scale (an upper bound, fixed start-up costs are scaled too) and
    no memory figure (a streaming stage's memory does not grow with the rows; one point cannot
    tell whether it does).
    """
    out: dict[str, tuple[float, float | None, str]] = {}
    comparable = _comparable
    names = list(dict.fromkeys(s.name for r in runs for s in r.stages))
    for name in names:
        points = [(r.scale, r.stage(name)) for r in runs if comparable(r, r.stage(name))]
        if not points:
            continue
        national = [p for p in points if p[0] >= NATIONAL_SCALE]
        if national:
            s = national[-1][1]
            out[name] = (s.wall_s, s.peak_mib, "measured")
        elif len({x for x, _ in points}) >= 2:
            out[name] = (
                _fit([(x, s.wall_s) for x, s in points]),
                _fit([(x, s.peak_mib) for x, s in points]),
                "fitted",
            )
        else:
            x, s = points[-1]
            out[name] = (s.wall_s * NATIONAL_SCALE / x, None, "upper bound")
    for name in DAILY[1:]:  # dbt, checks and publish rebuild everything daily: as the full run's
        full = name.removeprefix("daily: ")
        if name not in out or full not in out or out[name][2] == "measured":
            continue
        if out[full][2] == "measured" or (out[name][2] == "upper bound" and out[full][2] != "upper bound"):
            out[name] = (
                out[full][0],
                out[full][1],
                f"{out[full][2]}, as the full {full} (all rebuilt daily)",
            )
    return out


def _fit(points: list[tuple[float, float]]) -> float:
    """Least-squares line through ``points``, evaluated at the national scale (never below 0)."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
    return max(0.0, my + slope * (NATIONAL_SCALE - mx))


def goals(runs: Sequence[ScaleRun]) -> list[list[str]]:
    """The issue's goals against the national figures (measured or extrapolated)."""
    est = national_estimate(runs)
    rows = []

    def how(names: Sequence[str]) -> str:
        kinds = {est[n][2] for n in names}
        if kinds == {"measured"}:
            return "measured"
        return "upper bound" if any(k == "upper bound" for k in kinds) else "extrapolated"

    if all(n in est for n in PIPELINE):
        total = sum(est[n][0] for n in PIPELINE)
        rows.append(
            [
                "whole year end to end (ingest..publish)",
                "< 15 min",
                f"{total / 60:,.1f} min ({how(PIPELINE)})",
                "met" if total < GOAL_TOTAL_S else "not met",
            ]
        )
    peaks = [(n, est[n][1]) for n in PIPELINE if n in est and est[n][1] is not None]
    if peaks:
        name, peak = max(peaks, key=lambda p: p[1])
        rows.append(
            [
                "peak memory of any stage",
                "< 6 GiB",
                f"{peak / 1024:,.2f} GiB, {name} ({how([name])})",
                "met" if peak < GOAL_PEAK_MIB else "not met",
            ]
        )
    with_ratio: dict[str, tuple[float, StageResult]] = {}
    for run in sorted(runs, key=lambda r: r.scale):  # the largest scale with a baseline wins
        for s in run.stages:
            if s.ratio is not None and not s.name.startswith("daily") and _comparable(run, s):
                with_ratio[s.name] = (run.scale, s)
    for name, (scale, s) in with_ratio.items():
        rows.append(
            [
                f"{name} within 3x of raw DuckDB",
                "<= 3x",
                f"{s.ratio:.1f}x (at scale {scale:g})",
                "met" if (s.ratio or 0) <= GOAL_RATIO else "not met",
            ]
        )
    if all(n in est for n in DAILY):
        daily = sum(est[n][0] for n in DAILY)
        rows.append(
            [
                "daily incremental update (~0.5 % changed)",
                "< 2 min",
                f"{daily / 60:,.1f} min ({how(DAILY)})",
                "met" if daily < GOAL_DAILY_S else "not met",
            ]
        )
    for r in runs:
        if r.failed:
            rows.append([f"run at scale {r.scale:g} completes", "", r.failed.splitlines()[0], "not met"])
    return rows


def markdown(runs: Sequence[ScaleRun], info: dict[str, str]) -> str:
    """The generated section of docs/benchmarks.md (between markers, so the prose around it stays)."""
    scales = ", ".join(f"{x:g}" for x in sorted({r.scale for r in runs}))
    out = [
        f"<!-- bench:start scales={scales} -->",
        f"### Measured {dt.date.today().isoformat()}: scale {scales}",
        "",
        "Machine: " + "; ".join(f"{k}: {v}" for k, v in info.items() if k != "versions"),
        f"Versions: {info['versions']}",
        "",
    ]
    for run in runs:
        world = sum(run.world_rows.values())
        out += [
            f"#### Scale {run.scale:g} (seed {run.seed}, {world:,} rows in the world"
            + (f", sandbox rate limit {run.rate_limit:g} req/s" if run.rate_limit else ", no rate limit")
            + (f", client limit {run.client_rate_limit:g} req/s" if run.client_rate_limit else "")
            + (", raw layer copied from the world: ingestion not measured)" if run.raw_from_world else ")"),
            "",
            _md_table(HEADERS, table_rows(run)),
            "",
        ]
        if run.api or run.api_floor:
            out += [_md_table(API_HEADERS, api_rows(run)), ""]
    est = national_estimate(runs)
    out += [
        f"#### National year (scale {NATIONAL_SCALE}) from these runs",
        "",
        _md_table(
            ["stage", "wall s", "peak MiB", "how"],
            [[n, _fmt(w, 0), _fmt(p, 0), how] for n, (w, p, how) in est.items()],
        ),
        "",
        _md_table(["goal", "target", "figure", "status"], goals(runs)),
        "",
        "<!-- bench:end -->",
    ]
    return "\n".join(out)


def write_markdown(path: Path, section: str) -> None:
    """Replace the generated section of ``path`` (or append it; the file is created if missing)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    start, end = text.find("<!-- bench:start"), text.find("<!-- bench:end -->")
    if start != -1 and end != -1:
        text = text[:start] + section + text[end + len("<!-- bench:end -->") :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def runs_json(runs: Sequence[ScaleRun], info: dict[str, str]) -> dict[str, Any]:
    """The figures as JSON (``--json``), readable back by :func:`load_runs` (``--report``)."""
    out = []
    for r in runs:
        run = {k: v for k, v in r.__dict__.items() if k != "stages"}
        run["stages"] = [{**s.__dict__, "rows_per_s": s.rows_per_s, "ratio": s.ratio} for s in r.stages]
        out.append(run)
    return {"machine": info, "runs": out}


def load_runs(path: Path) -> list[ScaleRun]:
    payload = json.loads(path.read_text(encoding="utf-8"))
    runs = []
    for raw in payload["runs"]:
        stages = [
            StageResult(**{k: v for k, v in s.items() if k not in ("rows_per_s", "ratio")})
            for s in raw["stages"]
        ]
        runs.append(ScaleRun(**{**{k: v for k, v in raw.items() if k != "stages"}, "stages": stages}))
    return runs


# --- command line -----------------------------------------------------------------------------------


def _stages(text: str) -> list[str]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown stage(s) {', '.join(unknown)}; stages: {', '.join(STAGES)}"
        )
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench",
        description="Time and peak memory of every pipeline stage at a sandbox scale, next to raw DuckDB.",
    )
    parser.add_argument(
        "--scale", type=float, nargs="+", default=None, help="world scale(s): 1 small, 450 national"
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--stages", type=_stages, default=list(STAGES), help=f"comma-separated subset of {','.join(STAGES)}"
    )
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        help="sandbox requests/s (default: GOSZAKUP_SANDBOX_RATE_LIMIT; 0 none)",
    )
    parser.add_argument(
        "--client-rate-limit",
        type=float,
        default=None,
        help="the pipeline's own limit, GOSZAKUP_API_RATE_LIMIT (default: the sandbox's limit; 0 none)",
    )
    parser.add_argument(
        "--world", type=Path, help="use this world file instead of building one (one scale only)"
    )
    parser.add_argument(
        "--work", type=Path, help="working folder (default: <data_dir>/bench/s<seed>-x<scale>)"
    )
    parser.add_argument(
        "--no-baselines", dest="baselines", action="store_false", help="skip the raw-DuckDB baselines"
    )
    parser.add_argument(
        "--raw-from-world",
        action="store_true",
        help="make the raw layer by copying the world (no API, no dlt): dbt, checks and publish at large scales",
    )
    parser.add_argument(
        "--max-memory-gib",
        type=float,
        default=None,
        help="stop a stage whose resident memory passes this (default: 3/4 of RAM; 0 no limit)",
    )
    parser.add_argument(
        "--out", type=Path, help="write the figures into this markdown file (e.g. docs/benchmarks.md)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument(
        "--report",
        type=Path,
        nargs="+",
        help="do not run: report the runs saved by earlier --json files (several scales: fitted national figures)",
    )
    parser.add_argument("--baseline", nargs="+", help=argparse.SUPPRESS)  # child process of a baseline
    parser.add_argument("--run-checks", nargs=2, help=argparse.SUPPRESS)  # child process of the checks stage
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.baseline:
        print(json.dumps(run_baseline(args.baseline[0], args.baseline[1:])))
        return 0
    if args.run_checks:
        print(json.dumps(run_checks(Path(args.run_checks[0]), Path(args.run_checks[1]))))
        return 0
    if args.report:
        runs = [run for path in args.report for run in load_runs(path)]
        runs.sort(key=lambda r: r.scale)
        for run in runs:
            print_run(run)
        if args.out:
            write_markdown(args.out, markdown(runs, json.loads(args.report[-1].read_text())["machine"]))
            print(f"figures written to {args.out}")
        return 0
    try:
        settings = load_settings()
    except InvalidSettings as exc:
        print(f"error: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    scales = args.scale or [settings.sandbox_scale]
    if args.client_rate_limit is not None and args.client_rate_limit < 0:
        print("error: --client-rate-limit must be >= 0", file=sys.stderr)
        return 2
    if any(s <= 0 for s in scales):
        print("error: --scale must be > 0", file=sys.stderr)
        return 2
    if args.world and len(scales) > 1:
        print("error: --world goes with one --scale (the world's)", file=sys.stderr)
        return 2
    seed = settings.sandbox_seed if args.seed is None else args.seed
    rate = settings.sandbox_rate_limit if args.rate_limit is None else args.rate_limit
    if args.max_memory_gib is None:
        with contextlib.suppress(OSError, AttributeError, ValueError):
            MAX_MEMORY_MIB[0] = 0.75 * os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**20
    else:
        MAX_MEMORY_MIB[0] = args.max_memory_gib * 1024
    runs = []
    try:
        for scale in scales:
            work = args.work or settings.data_dir / "bench" / f"s{seed}-x{scale:g}"
            if args.work and len(scales) > 1:
                work = args.work / f"x{scale:g}"
            bench = Bench(
                work.resolve(),
                scale=scale,
                seed=seed,
                rate_limit=rate,
                world=args.world,
                baselines=args.baselines,
                raw_from_world=args.raw_from_world,
                client_rate_limit=rate if args.client_rate_limit is None else args.client_rate_limit,
            )
            runs.append(bench.execute(args.stages))
            print_run(runs[-1])
            if runs[-1].failed:
                break
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    info = machine()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(runs_json(runs, info), indent=1, default=str), encoding="utf-8")
    if args.out:
        write_markdown(args.out, markdown(runs, info))
        print(f"figures written to {args.out}")
    return 1 if any(r.failed for r in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
