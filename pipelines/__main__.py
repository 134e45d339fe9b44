"""``python -m pipelines run``: the main job (``make run``), executed in process.

It runs the ``daily_update`` job of :mod:`pipelines.definitions` (or ``full_rebuild`` with
``--full``) against a persistent Dagster instance in ``<data_dir>/dagster_home`` (unless
``DAGSTER_HOME`` is set), so the run, its metadata and check results show in the UI afterwards
(``DAGSTER_HOME=<data_dir>/dagster_home dagster dev -w workspace.yaml``). It prints the rows
loaded, the checks, and the version published, and exits non-zero when the run fails, a check
fails at error level, or nothing became ``latest`` because of checks.
"""

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _value(entry: Any) -> Any:
    return getattr(entry, "value", entry)


def summarize(result: Any) -> dict[str, Any]:
    """What a finished job run did, from its events: rows per raw asset, checks, version."""
    rows: dict[str, dict[str, Any]] = {}
    publish: dict[str, Any] = {}
    checks = {"passed": 0, "failed_errors": [], "failed_warnings": [], "lines": {}}
    coercions: list[tuple[str, str, str, int]] = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            mat = event.event_specific_data.materialization
            key = mat.asset_key.to_user_string()
            meta = {k: _value(v) for k, v in mat.metadata.items()}
            if key.startswith("raw/"):
                rows[key] = {
                    "loaded": meta.get("rows_loaded", 0),
                    "held": meta.get("dagster/row_count", 0),
                    "pages": meta.get("pages", 0),
                    "quarantined": meta.get("quarantined_in_run", 0),
                    "coerced": sum(
                        n
                        for fields in (meta.get("coercions") or {}).values()
                        for kinds in fields.values()
                        for n in kinds.values()
                    ),
                }
                for table, fields in (meta.get("coercions") or {}).items():
                    for field, kinds in fields.items():
                        for kind, n in kinds.items():
                            coercions.append((table, field, kind, n))
            elif key == "publish/dataset_version":
                publish = meta
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            line = evaluation.description or _value(evaluation.metadata.get("summary", ""))
            if line and not evaluation.passed:
                checks["lines"][name] = line
            if evaluation.passed:
                checks["passed"] += 1
            elif evaluation.severity.value == "WARN":
                checks["failed_warnings"].append(name)
            else:
                checks["failed_errors"].append(name)
    return {
        "rows": rows,
        "checks": checks,
        "publish": publish,
        "success": result.success,
        "coercions": sorted(coercions),
    }


def print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="Raw tables")
    for column in ("asset", "rows loaded", "rows held", "pages", "quarantined", "coerced"):
        table.add_column(column, justify="left" if column == "asset" else "right")
    for key, r in sorted(summary["rows"].items()):
        table.add_row(
            key,
            f"{r['loaded']:,}",
            f"{r['held']:,}",
            str(r["pages"]),
            f"{r.get('quarantined', 0):,}",
            f"{r.get('coerced', 0):,}",
        )
    console.print(table)
    from pipelines.sources.coercion import summary_lines

    for line in summary_lines(summary.get("coercions", [])):
        console.print(line, soft_wrap=True)
    checks = summary["checks"]
    console.print(
        f"checks: {checks['passed']} passed, {len(checks['failed_errors'])} failed (error), "
        f"{len(checks['failed_warnings'])} failed (warning)"
    )
    for name in checks["failed_errors"]:
        line = checks.get("lines", {}).get(name)
        console.print(f"  error: {name}" + (f": {line}" if line else ""), soft_wrap=True)
    for name in checks["failed_warnings"][:20]:
        console.print(f"  warning: {name}")
    pub = summary["publish"]
    if pub:
        console.print(
            f"version {pub.get('version')}: published={pub.get('published')} latest_moved={pub.get('latest_moved')} "
            f"({pub.get('reason')}); {pub.get('files')} files at {pub.get('path')}; "
            f"flags raised: {pub.get('flags_raised_total', 0)}"
        )
    else:
        console.print("no version published")


def failure_line(data: Any) -> str:
    """One line for a failed step: a ``Failure``'s description (e.g. the API's refusal), else the error."""
    user = getattr(data, "user_failure_data", None)
    text = (user.description if user is not None and user.description else None) or (
        data.error.message if data.error else "unknown error"
    )
    return " ".join(str(text).split())


def asset_selection(job: Any, entities: Sequence[str] | None) -> list[Any] | None:
    """The job's assets without the raw entities ``GOSZAKUP_ENTITIES`` leaves out (None: all).

    The rest of the graph (code tables, journal, dbt, checks, publish) still runs: dbt builds from
    what the warehouse holds.
    """
    if not entities:
        return None
    from pipelines.goszakup_api import ENTITIES

    skipped = {("raw", name) for name in ENTITIES if name not in entities}
    return [key for key in job.asset_layer.executable_asset_keys if tuple(key.path) not in skipped]


def run(full: bool = False, data_dir: str | None = None) -> int:
    """Execute the main job in process; returns the exit code."""
    if data_dir:
        os.environ["GOSZAKUP_DATA_DIR"] = str(Path(data_dir).resolve())
    from pipelines.settings import InvalidSettings, get_settings

    try:
        settings = get_settings()
    except InvalidSettings as exc:
        print(f"error: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    home = Path(os.environ.get("DAGSTER_HOME") or settings.data_dir / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)

    from dagster import DagsterInstance

    from pipelines.definitions import defs

    job = defs.resolve_job_def("full_rebuild" if full else "daily_update")
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            asset_selection=asset_selection(job, settings.entities),
        )
        summary = summarize(result)
    print_summary(summary)
    print(f"run {result.run_id} is in the Dagster instance at {home}")
    if not result.success:
        for event in result.all_events:
            data = event.step_failure_data if event.is_step_failure else None
            if data is None or (data.error and data.error.cls_name == "DagsterAssetCheckFailedError"):
                continue  # a failed blocking check is told by its own line below
            print(f"error: step {event.step_key} failed: {failure_line(data)}", file=sys.stderr)
        for name, line in summary["checks"]["lines"].items():
            if name in summary["checks"]["failed_errors"]:
                print(f"error: check {name} failed: {line}", file=sys.stderr)
        return 1
    publish = summary["publish"]
    if summary["checks"]["failed_errors"] or not publish or publish.get("checks_passed") is False:
        reason = publish.get("reason", "no version was published")
        print(f"error: the build cannot become latest: {reason}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="run the whole pipeline in process (make run)")
    run_parser.add_argument(
        "--full", action="store_true", help="full rebuild instead of the incremental update"
    )
    run_parser.add_argument(
        "--data-dir", help="folder for the warehouse, dlt state, publish and dagster_home"
    )
    probe = sub.add_parser(
        "check-api",
        help="compare one small page of every entity (and GraphQL introspection) with the contract; loads nothing",
    )
    probe.add_argument("--data-dir", help="folder of the sandbox world when no API is configured")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(full=args.full, data_dir=args.data_dir)
    if args.command == "check-api":
        return check_api(data_dir=args.data_dir)
    return 2


def check_api(data_dir: str | None = None) -> int:
    """``python -m pipelines check-api``: the contract probe (``pipelines.probe``)."""
    from pipelines.probe import run_check_api
    from pipelines.settings import InvalidSettings, load_settings

    try:
        settings = load_settings(**({"data_dir": Path(data_dir).resolve()} if data_dir else {}))
    except InvalidSettings as exc:
        print(f"error: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    try:
        return run_check_api(settings, sys.stdout)
    except Exception as exc:  # one line: the API could not be reached at all
        print(f"error: check-api failed: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
