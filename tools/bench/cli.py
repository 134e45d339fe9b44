"""The command line of ``python -m tools.bench``."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pipelines.settings import InvalidSettings, load_settings
from tools.bench.child import run_baseline, run_checks
from tools.bench.measure import MAX_MEMORY_MIB, STAGES, BenchError
from tools.bench.report import load_runs, machine, markdown, print_run, runs_json, write_markdown
from tools.bench.stages import Bench


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
    parser.add_argument(
        "--changed-only", action="store_true", help=argparse.SUPPRESS
    )  # ... on the daily slice
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.baseline:
        print(json.dumps(run_baseline(args.baseline[0], args.baseline[1:])))
        return 0
    if args.run_checks:
        print(json.dumps(run_checks(Path(args.run_checks[0]), Path(args.run_checks[1]), args.changed_only)))
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
