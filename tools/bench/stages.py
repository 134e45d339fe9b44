"""The stages of one benchmark run at one scale, each in a child process next to its baseline."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from pipelines.settings import REPO_ROOT, SANDBOX_TOKEN
from tools.bench.measure import DBT, PYTHON, BenchError, Measured, StageFailed, _child_env, run_measured
from tools.bench.report import _console
from tools.bench.results import ScaleRun, StageResult, _table_counts, last_load_rows, world_counts
from tools.bench.sandbox_process import SandboxProcess, api_usage

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
        from tools.bench.baselines import dump_api

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
        from tools.bench.baselines import dump_api

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
            ["-m", "tools.bench", "--run-checks", str(self.warehouse), str(self.work / "gx")]
            # the daily update checks rows on the day's changed slice, as the pipeline's daily job
            + (["--changed-only"] if name.startswith("daily") else []),
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
        """The daily dbt, checks and publish stages are compared with the full baselines (a raw-DuckDB
        rebuild of everything): the ratio says how much the incremental work saves."""
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
