"""The report: machine, per-stage tables, API use, fitted national figures, goals, Markdown and JSON."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from tools.bench.measure import GOAL_DAILY_S, GOAL_PEAK_MIB, GOAL_RATIO, GOAL_TOTAL_S, NATIONAL_SCALE
from tools.bench.results import ScaleRun, StageResult

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
