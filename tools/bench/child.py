"""The child processes of the checks stage and of the baselines (run as ``python -m tools.bench``)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools.bench.measure import BenchError

# --- the checks stage's child process -------------------------------------------------------------


def run_checks(warehouse: Path, report_root: Path, changed_only: bool = False) -> dict[str, Any]:
    """The GX suites of every layer, with reports (as the pipeline runs them); a summary for publish.
    ``changed_only``: row-level checks on the last build's changed slice (the daily update)."""
    from expectations import validate_layer
    from pipelines.settings import get_settings

    settings = get_settings()
    layers = {}
    for layer in ("raw", "ocds", "risk"):
        outcome = validate_layer(
            warehouse,
            layer,
            report_dir=report_root / layer,
            ocid_prefix=settings.ocid_prefix,
            duckdb_config=settings.duckdb_config,
            changed_only=changed_only,
        )
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
    from tools.bench import baselines as b

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
