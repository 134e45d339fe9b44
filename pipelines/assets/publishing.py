"""The published version as a Dagster asset, and an asset check that verifies what was written.

``publish/dataset_version`` depends on every OCDS, risk and quarantine model. It reads the latest
outcome of every asset check upstream (dbt tests and GX suites) from the Dagster instance and
passes the verdict to :func:`publish.publish_version`: a build with a failed error-severity check
is written under ``failed/`` and never becomes ``latest``. Inside a run, blocking checks already
stop this step when an error-level check fails; outside a run, the automation condition below
requests it only once every upstream blocking check has passed.

Run metadata on the asset: version, path, whether it was published and ``latest`` moved (and
why not), files, rows per table, and the rows of each risk mart (flags raised).
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AutomationCondition,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from pipelines.resources import GoszakupResource

PUBLISH_KEY = AssetKey(["publish", "dataset_version"])

#: Publish when anything upstream was updated, only once every upstream blocking check passed.
PUBLISH_CONDITION = AutomationCondition.eager() & AutomationCondition.all_deps_blocking_checks_passed()


def summarize_checks(instance: Any, check_keys: Sequence[AssetCheckKey]) -> tuple[bool, dict]:
    """(all error-level checks passed, a deterministic summary) from the latest evaluations."""
    records = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(check_keys))
    failed_errors: list[str] = []
    failed_warnings: list[str] = []
    not_run: list[str] = []
    passed = 0
    by_origin: dict[str, dict[str, int]] = {}
    for key in sorted(check_keys, key=lambda k: k.to_user_string()):
        name = key.to_user_string()
        origin = "great_expectations" if key.name.startswith("gx_") else "dbt_tests"
        counts = by_origin.setdefault(
            origin, {"checks": 0, "passed": 0, "failed_errors": 0, "failed_warnings": 0}
        )
        counts["checks"] += 1
        record = records.get(key)
        evaluation = _evaluation(record)
        if evaluation is None:
            not_run.append(name)
        elif evaluation.passed:
            passed += 1
            counts["passed"] += 1
        elif evaluation.severity == AssetCheckSeverity.WARN:
            failed_warnings.append(name)
            counts["failed_warnings"] += 1
        else:
            failed_errors.append(name)
            counts["failed_errors"] += 1
    ok = not failed_errors and not not_run
    summary = {
        "passed": ok,
        "checks": len(check_keys),
        "checks_passed": passed,
        "failed_errors": failed_errors,
        "failed_warnings": failed_warnings,
        "not_run": not_run,
        "by_origin": by_origin,
    }
    return ok, summary


def _evaluation(record: Any) -> Any:
    if record is None or record.status == AssetCheckExecutionRecordStatus.PLANNED or record.event is None:
        return None
    dagster_event = record.event.dagster_event
    return dagster_event.event_specific_data if dagster_event else None


def _extraction_end(warehouse: str) -> str | None:
    """When the raw data was last loaded (dlt's load table): the cut-off of the snapshot."""
    try:
        with duckdb.connect(warehouse, read_only=True) as con:
            row = con.execute("SELECT max(inserted_at) FROM raw._dlt_loads WHERE status = 0").fetchone()
    except duckdb.Error:
        return None
    if not row or row[0] is None:
        return None
    return row[0].strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(row[0], "strftime") else str(row[0])


def flags_raised(warehouse: str) -> dict[str, int]:
    """Red flags raised in this build, per flag code (processes and organisations flagged)."""
    counts: dict[str, int] = {}
    try:
        with duckdb.connect(warehouse, read_only=True) as con:
            for table in ("risk.process_flags", "risk.organisation_flags"):
                rows = con.execute(
                    f"SELECT flag_code, count(*) FROM {table} WHERE status = 'flagged' GROUP BY 1 ORDER BY 1"
                ).fetchall()
                for code, n in rows:
                    counts[str(code)] = counts.get(str(code), 0) + int(n)
    except duckdb.Error:  # no risk layer in this build: nothing raised
        return {}
    return dict(sorted(counts.items()))


def loaded_this_run(instance: Any, run_id: str) -> tuple[list[str], dict[str, Any]]:
    """(entities the API loaded in run ``run_id``, their coercions ``{table: {field: {kind: n}}}``).

    Read from the raw assets' materializations of this run, so the manifest lists what this run
    loaded (``GOSZAKUP_ENTITIES`` may select a few) and what the connector converted on the way.
    """
    from pipelines.goszakup_api import ENTITIES

    loaded: list[str] = []
    coercions: dict[str, Any] = {}
    for name in ENTITIES:
        event = instance.get_latest_materialization_event(AssetKey(["raw", name]))
        if event is None or event.run_id != run_id or event.asset_materialization is None:
            continue
        loaded.append(name)
        entry = event.asset_materialization.metadata.get("coercions")
        coercions.update(getattr(entry, "value", entry) or {})
    return sorted(loaded), dict(sorted(coercions.items()))


def build_publish_asset(
    deps: Sequence[AssetKey],
    check_keys: Sequence[AssetCheckKey],
    *,
    dbt_manifest: Any = None,
    dbt_model_count: int = 0,
) -> AssetsDefinition:
    """The publish asset over ``deps``, gated by the checks ``check_keys``."""
    gate = sorted(check_keys, key=lambda k: k.to_user_string())

    @asset(
        key=PUBLISH_KEY,
        deps=list(deps),
        group_name="publish",
        kinds={"parquet", "csv", "json"},
        automation_condition=PUBLISH_CONDITION,
        description=(
            "One immutable, versioned snapshot of the OCDS, risk and quarantine tables "
            "(Parquet, CSV, OCDS JSON, datapackage.json, manifest). Moves `latest` only when every "
            "error-level check upstream passed."
        ),
        op_tags={"goszakup/step": "publish"},
    )
    def dataset_version(context: AssetExecutionContext, goszakup: GoszakupResource) -> MaterializeResult:
        from publish import publish_version

        settings = goszakup.get_settings()
        checks_passed, summary = summarize_checks(context.instance, gate)
        if not checks_passed:
            context.log.warning(
                f"checks did not all pass (failed: {summary['failed_errors']}, not run: {len(summary['not_run'])}): "
                "the build goes under failed/ and latest stays where it is"
            )
        dbt_summary = {
            "models": dbt_model_count,
            "tests": summary["by_origin"].get("dbt_tests", {}),
        }
        source: dict[str, Any] = {"description": goszakup.describe_source()}
        entities_loaded, coercions = loaded_this_run(context.instance, context.run_id)
        source["entities_loaded"] = entities_loaded
        source["coercions"] = coercions
        extraction_end = _extraction_end(str(settings.warehouse_path))
        if extraction_end:
            source["extraction_end"] = extraction_end
        result = publish_version(
            settings.warehouse_path,
            settings.publish_root,
            checks_passed=checks_passed,
            checks_summary=summary,
            dbt_summary=dbt_summary,
            source=source,
            dbt_manifest=dbt_manifest,
            options=settings.publish_options(),
        )
        rows = dict(sorted(result.rows.items()))
        flags = flags_raised(str(settings.warehouse_path))
        context.log.info(
            f"version {result.version}: published={result.published} latest_moved={result.latest_moved} "
            f"({result.reason})"
        )
        return MaterializeResult(
            metadata={
                "version": MetadataValue.text(result.version),
                "path": MetadataValue.path(str(result.path) if result.path else ""),
                "published": MetadataValue.bool(result.published),
                "latest_moved": MetadataValue.bool(result.latest_moved),
                "reason": MetadataValue.text(result.reason),
                "files": MetadataValue.int(result.files),
                "rows": MetadataValue.json(rows),
                "flags_raised": MetadataValue.json(flags),
                "flags_raised_total": MetadataValue.int(sum(flags.values())),
                "checks_passed": MetadataValue.bool(checks_passed),
                "checks": MetadataValue.json(summary),
            }
        )

    return dataset_version


@asset_check(
    asset=PUBLISH_KEY,
    name="snapshot_verifies",
    description="The latest published files match their manifest (checksums, index, datapackage).",
)
def snapshot_verifies(context: AssetCheckExecutionContext, goszakup: GoszakupResource) -> AssetCheckResult:
    from publish.verify import verify_version

    event = context.instance.get_latest_materialization_event(PUBLISH_KEY)
    materialization = event.asset_materialization if event else None
    path_value = materialization.metadata.get("path") if materialization else None
    path = getattr(path_value, "value", None) or getattr(path_value, "path", None)
    if not path:
        return AssetCheckResult(
            passed=False, metadata={"problem": MetadataValue.text("no published version")}
        )
    problems = verify_version(Path(path))
    return AssetCheckResult(
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        metadata={"path": MetadataValue.path(path), "problems": MetadataValue.json(problems[:50])},
    )


PUBLISH_CHECKS: list[AssetChecksDefinition] = [snapshot_verifies]
