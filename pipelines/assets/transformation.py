"""The dbt project as Dagster assets: one asset per model and seed, dbt tests as asset checks.

Keys follow the warehouse: ``<schema>/<relation>`` (``staging/stg_goszakup__trd_buy``,
``ocds/releases``, ``quarantine/trd_buy``, ``risk/...``), and dbt sources map onto the dlt assets
that load them (``raw/trd_buy``; child tables onto their entity, ``raw/contract``; code tables onto
``raw/refs``), so the graph runs raw -> staging -> intermediate -> ocds/quarantine -> risk ->
publish.

The project and its manifest come from :mod:`pipelines.dbt_project` (``prepare_if_dev`` under
``dagster dev``); the run's values reach dbt as ``--vars``.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey, Config
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from pipelines.assets.ingestion import raw_asset_key
from pipelines.dbt_project import dbt_project, dbt_vars_args, ensure_manifest
from pipelines.resources import GoszakupResource

#: op name of the dbt step (run config of the full-rebuild job addresses it)
OP_NAME = "dbt_models"
#: schemas of published marts (the publish asset depends on every model in them)
PUBLISHED_SCHEMAS = ("ocds", "risk", "quarantine")

DBT_PROJECT: DbtProject = dbt_project


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """Asset keys = warehouse relations; sources -> the dlt assets; groups = schemas."""

    def __init__(self) -> None:
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True,
                # child tables and code tables share their loader's asset (raw/contract, raw/refs)
                enable_duplicate_source_asset_keys=True,
            )
        )

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return raw_asset_key(dbt_resource_props["name"])
        relation = dbt_resource_props.get("alias") or dbt_resource_props["name"]
        return AssetKey([dbt_resource_props["schema"], relation])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return "raw"
        return dbt_resource_props["schema"]


class DbtBuildConfig(Config):
    """Run config of the dbt step."""

    full_refresh: bool = False
    """``dbt build --full-refresh`` (incremental models rebuilt from scratch)."""


TRANSLATOR = WarehouseDbtTranslator()


@dbt_assets(
    manifest=ensure_manifest(DBT_PROJECT),
    project=DBT_PROJECT,
    name=OP_NAME,
    dagster_dbt_translator=TRANSLATOR,
    op_tags={"goszakup/step": "dbt"},
)
def dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, goszakup: GoszakupResource, config: DbtBuildConfig
) -> Iterator[Any]:
    """``dbt build`` of the selected models: runs, seeds and tests (tests report as asset checks;
    an error-severity test is a blocking check, so nothing downstream of a failure is built)."""
    args = [
        "build",
        *(["--full-refresh"] if config.full_refresh else []),
        *dbt_vars_args(goszakup.get_settings()),
    ]
    yield from dbt.cli(args, context=context).stream()


def dbt_model_keys(schemas: tuple[str, ...] | None = None) -> list[AssetKey]:
    """Keys of the dbt assets (models and seeds), optionally only those in ``schemas``."""
    return sorted(
        (key for key in dbt_models.keys if schemas is None or key.path[0] in schemas),
        key=lambda k: k.to_user_string(),
    )
