"""The one ``Definitions`` of the pipeline (loaded by ``workspace.yaml`` and ``python -m pipelines``).

Graph: ``raw/*`` (dlt, one asset per API entity) -> ``staging/*`` -> ``intermediate/*`` ->
``ocds/*``, ``quarantine/*``, ``risk/*`` (dbt, tests as asset checks) -> ``publish/dataset_version``;
GX suites are asset checks on the raw, OCDS and risk assets.

Steps run one after another in one process (``in_process_executor``): every step opens the same
DuckDB file, which one process at a time may open for writing, and two cores leave nothing to gain
from parallel steps (dlt extracts in threads and dbt runs two threads inside its own step).
"""

from dagster import Definitions, in_process_executor
from dagster_dlt import DagsterDltResource

from pipelines.assets.gate import build_quarantine_gate
from pipelines.assets.ingestion import RAW_ASSET_KEYS, raw_goszakup
from pipelines.assets.publishing import PUBLISH_CHECKS, build_publish_asset
from pipelines.assets.quality import build_quality_checks
from pipelines.assets.transformation import (
    DBT_PROJECT,
    PUBLISHED_SCHEMAS,
    dbt_model_keys,
    dbt_models,
)
from pipelines.jobs import JOBS, SCHEDULES, SENSORS
from pipelines.resources import GoszakupResource, make_dbt_resource

_dbt_keys = dbt_model_keys()
quality_checks = build_quality_checks(set(RAW_ASSET_KEYS) | set(_dbt_keys), _dbt_keys)
quarantine_gate = build_quarantine_gate(RAW_ASSET_KEYS)
dataset_version = build_publish_asset(
    dbt_model_keys(PUBLISHED_SCHEMAS),
    [
        *dbt_models.check_keys,
        *(key for checks in quality_checks for key in checks.check_keys),
        *quarantine_gate.check_keys,
    ],
    dbt_manifest=DBT_PROJECT.manifest_path,
    dbt_model_count=len(_dbt_keys),
)


def build_resources(goszakup: GoszakupResource | None = None) -> dict:
    """Resources of every asset; tests pass a ``GoszakupResource`` pointing at a temp data dir."""
    return {
        "goszakup": goszakup or GoszakupResource(),
        "dlt": DagsterDltResource(),
        "dbt": make_dbt_resource(DBT_PROJECT),
    }


def build_definitions(goszakup: GoszakupResource | None = None) -> Definitions:
    return Definitions(
        assets=[raw_goszakup, dbt_models, dataset_version],
        asset_checks=[*quality_checks, quarantine_gate, *PUBLISH_CHECKS],
        jobs=JOBS,
        schedules=SCHEDULES,
        sensors=SENSORS,
        resources=build_resources(goszakup),
        executor=in_process_executor,
    )


defs = build_definitions()
