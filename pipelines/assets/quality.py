"""Great Expectations suites as Dagster asset checks: one check per suite, on the asset it validates.

A suite validates one warehouse table (``expectations.suite_names``): raw suites attach to the dlt
asset holding the table (``raw.contract_units`` -> ``raw/contract``), OCDS and risk suites to the
dbt model of that name (``ocds/releases``). Every check is blocking: a failed error-severity
expectation yields ``AssetCheckSeverity.ERROR`` and stops everything downstream (publishing among
it); a failed warning yields ``WARN`` and does not block.

One multi-asset check per layer runs the selected suites over one read-only DuckDB connection.
The GX report (Data Docs, per-suite JSON, a one-page HTML per layer) is kept under
``<data_dir>/reports/<run_id>/gx/<layer>`` and linked from each check's metadata; the layer's
metrics (row counts, shares) are kept as the ``previous`` of the next build's distribution checks.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)

from pipelines.assets.ingestion import raw_asset_key
from pipelines.resources import GoszakupResource

CHECK_PREFIX = "gx_"


def check_name(layer: str, table: str) -> str:
    """``gx_raw_contract_units``: the asset check of suite ``raw.contract_units``."""
    return f"{CHECK_PREFIX}{layer}_{table}".replace(".", "_")


def suite_targets(available: set[AssetKey], dbt_keys: list[AssetKey]) -> dict[str, dict[str, AssetKey]]:
    """layer -> {table: asset key} for every suite whose asset exists in the graph."""
    from expectations import suite_names

    targets: dict[str, dict[str, AssetKey]] = {"raw": {}, "ocds": {}, "risk": {}}
    for name in suite_names("raw"):
        table = name.split(".", 1)[1]
        key = raw_asset_key(table)
        if key in available:
            targets["raw"][table] = key
    ocds_tables = [name.split(".", 1)[1] for name in suite_names("ocds")]
    ocds_tables += [k.path[-1] for k in dbt_keys if k.path[0] == "ocds" and k.path[-1] not in ocds_tables]
    for table in ocds_tables:
        key = AssetKey(["ocds", table])
        if key in available:
            targets["ocds"][table] = key
    for key in dbt_keys:  # risk suites are discovered per mart: one per dbt model in schema risk
        if key.path[0] == "risk":
            targets["risk"][key.path[-1]] = key
    return {layer: tables for layer, tables in targets.items() if tables}


def report_root(settings_data_dir: Path, run_id: str, layer: str) -> Path:
    return settings_data_dir / "reports" / run_id / "gx" / layer


def previous_path(data_dir: Path, layer: str) -> Path:
    """Metrics of the last validation of ``layer`` (the ``previous`` of the next one)."""
    return data_dir / "quality" / f"{layer}.previous.json"


def _load_previous(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def build_layer_check(layer: str, tables: dict[str, AssetKey]) -> AssetChecksDefinition:
    """The multi-asset check running the GX suites of ``layer``."""
    specs = [
        AssetCheckSpec(
            name=check_name(layer, table),
            asset=key,
            blocking=True,
            description=f"Great Expectations suite {layer}.{table} (error-severity failures block publishing).",
        )
        for table, key in sorted(tables.items())
    ]
    table_of = {AssetCheckKey(key, check_name(layer, table)): table for table, key in tables.items()}

    @multi_asset_check(
        specs=specs,
        name=f"gx_{layer}_suites",
        can_subset=True,
        description=f"Great Expectations suites of the {layer} layer",
    )
    def _layer_check(
        context: AssetCheckExecutionContext, goszakup: GoszakupResource
    ) -> Iterator[AssetCheckResult]:
        from expectations import asset_check_outcome, validate_table

        settings = goszakup.get_settings()
        report = report_root(settings.data_dir, context.op_execution_context.run_id, layer)
        previous = _load_previous(previous_path(settings.data_dir, layer))
        metrics: dict = dict((previous or {}).get("metrics", {}))
        # a daily update checks rows on the day's changed slice, once the previous checks passed
        # (rows that failed then are checked again until they pass); a full rebuild checks all
        changed_only = context.op_execution_context.run.tags.get("goszakup/mode") != "full" and bool(
            (previous or {}).get("passed")
        )
        passed = True
        selected = sorted(
            (k for k in context.selected_asset_check_keys if k in table_of), key=lambda k: table_of[k]
        )
        with duckdb.connect(
            str(settings.warehouse_path), read_only=True, config=settings.duckdb_config
        ) as con:
            for check_key in selected:
                table = table_of[check_key]
                results = validate_table(
                    con,
                    layer,
                    table,
                    report_dir=report,
                    previous=previous,
                    ocid_prefix=settings.ocid_prefix,
                    changed_only=changed_only,
                )
                passed = passed and not any(r.severity == "error" and not r.success for r in results)
                outcome = asset_check_outcome(results)
                suite_file = report / "suites" / f"{layer}.{table}.json"
                if suite_file.exists():
                    metrics.update(_load_previous(suite_file).get("metrics", {}))  # type: ignore[union-attr]
                meta = outcome["metadata"]
                yield AssetCheckResult(
                    asset_key=check_key.asset_key,
                    check_name=check_key.name,
                    passed=outcome["passed"],
                    severity=AssetCheckSeverity[outcome["severity"]],
                    metadata={
                        "checks": MetadataValue.int(meta["checks"]),
                        "failed_errors": MetadataValue.json(meta["failed_errors"]),
                        "failed_warnings": MetadataValue.json(meta["failed_warnings"]),
                        "failures": MetadataValue.json(meta["failures"]),
                        "suite_results": MetadataValue.path(str(suite_file)),
                        "data_docs": MetadataValue.path(str(report / "data_docs" / "index.html")),
                    },
                )
        path = previous_path(settings.data_dir, layer)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps({"layer": layer, "metrics": metrics, "passed": passed}, sort_keys=True, default=str)
        )

    return _layer_check


def build_quality_checks(available: set[AssetKey], dbt_keys: list[AssetKey]) -> list[AssetChecksDefinition]:
    """One multi-asset check per layer that has suites and assets to attach them to."""
    return [build_layer_check(layer, tables) for layer, tables in suite_targets(available, dbt_keys).items()]
