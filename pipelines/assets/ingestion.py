"""The raw layer as Dagster assets: one ``@dlt_assets`` asset per API entity (plus code tables,
the change journal and the quarantine table), keyed ``raw/<name>`` after the table they hold.

Why the asset body does not call ``DagsterDltResource.run`` as is: the source is built at run time
(the sandbox is started, or the real API's token read, only when the step runs), and an entity's
asset also owns its journal-deletion transformer (``<entity>_deletions``) and its lifted child
tables (``contract`` -> ``contract_units``, ``treasury_pay``). So the body is thin: it calls
:func:`pipelines.ingest.run_ingestion`, the same function as the CLI (which selects those
resources, runs the pipeline and removes children of deleted parents), and reports per asset:
rows loaded, rows held, pages, records, quarantined records and retries. dagster-dlt still
supplies the specs and the column schema shown on each asset.

Transient source errors (HTTP 429/5xx after the connector's own retries, timeouts, connection
errors, unreadable pages) ask Dagster for a retry with exponential backoff (``RetryRequested``).
What retrying cannot fix (401/403, 404 on a contract path, a GraphQL validation error, a 200 answer
that is not JSON, invalid settings) fails the step at once with ``Failure(allow_retries=False)``
and one line naming the entity, the path and the API's message; the trace stays in the event log.
"""

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
import requests
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    RetryRequested,
)
from dagster._core.definitions.metadata.metadata_set import TableMetadataSet
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData
from pydantic import ValidationError

from pipelines.goszakup_api import ENTITIES, REF_TABLES
from pipelines.ingest import IngestResult, quarantine_table, run_ingestion
from pipelines.resources import GoszakupResource
from pipelines.settings import InvalidSettings
from pipelines.sources.goszakup import goszakup_source
from pipelines.sources.http import SourceError, source_error

RAW = "raw"
GROUP = "raw"
REFS = "refs"
JOURNAL = "journal"
QUARANTINE_RESOURCE = "_quarantine_schema"
QUARANTINE_TABLE = "_quarantine"
#: op name of the ingestion step (run config of the full-rebuild job addresses it)
OP_NAME = "raw_goszakup"

#: retries of the ingestion step on source errors, with exponential backoff
SOURCE_RETRIES = 3
SOURCE_RETRY_DELAY_S = 30.0


def raw_asset_key(table: str) -> AssetKey:
    """The asset that holds raw table ``table`` (child tables belong to their entity's asset)."""
    for entity in ENTITIES.values():
        if table in entity.tables():
            return AssetKey([RAW, entity.name])
    if table in REF_TABLES:
        return AssetKey([RAW, REFS])
    if table == QUARANTINE_TABLE:
        return AssetKey([RAW, QUARANTINE_TABLE])
    return AssetKey([RAW, table])


def asset_tables(name: str) -> list[str]:
    """Raw tables held by the asset ``raw/<name>``."""
    if name in ENTITIES:
        return ENTITIES[name].tables()
    if name == REFS:
        return list(REF_TABLES)
    return [name]


class RawTableTranslator(DagsterDltTranslator):
    """dlt resource -> ``raw/<table>`` asset (the quarantine schema resource -> ``raw/_quarantine``)."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        default = super().get_asset_spec(data)
        name = data.resource.name
        table = QUARANTINE_TABLE if name == QUARANTINE_RESOURCE else name
        if name in ENTITIES:
            entity = ENTITIES[name]
            description = f"{entity.description} Tables: {', '.join(f'raw.{t}' for t in entity.tables())}."
        elif name == REFS:
            description = f"Code tables of /v3/refs, replaced on every load: {', '.join(REF_TABLES)}."
        elif name == JOURNAL:
            description = (
                "Change journal (/v2/journal); its D actions hard-delete objects in the entity tables."
            )
        else:
            description = "Records the connector refused (entity, record_id, field, reason, record)."
        return default.replace_attributes(
            key=AssetKey([RAW, table]),
            deps=[],
            group_name=GROUP,
            description=description,
            kinds={"dlt", "duckdb"},
            metadata={
                **{k: v for k, v in default.metadata.items() if not k.startswith("dagster/")},
                **TableMetadataSet(table_name=f"{RAW}.{table}"),
                "raw_tables": ", ".join(f"{RAW}.{t}" for t in asset_tables(table)),
            },
        )


def _spec_source() -> Any:
    """The source the asset specs are derived from (never run: the real one is built per run)."""
    source = goszakup_source("http://spec.invalid", "spec-only")
    source = source.with_resources(*ENTITIES, REFS, JOURNAL)
    source.resources.add(quarantine_table())
    return source


def _spec_pipeline() -> dlt.Pipeline:
    """A never-run pipeline for the specs, in a temp folder (importing must not touch ./data)."""
    folder = Path(tempfile.gettempdir()) / "goszakup-dagster-specs"
    return dlt.pipeline(
        pipeline_name="goszakup",
        destination=dlt.destinations.duckdb(str(folder / "specs.duckdb")),
        dataset_name=RAW,
        pipelines_dir=str(folder),
    )


class IngestConfig(Config):
    """Run config of the ingestion step."""

    full_refresh: bool = False
    """Drop the selected raw tables and their incremental cursors, then load from initial_date."""


def is_source_error(exc: BaseException) -> bool:
    """True when ``exc`` (or a cause) is a transient problem of the source, worth a retry."""
    found = source_error(exc)
    if found is not None:
        return found.retryable
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, SourceError):
            return current.retryable
        if isinstance(current, requests.ConnectionError | requests.Timeout | TimeoutError):
            return True
        current = current.__cause__ or current.__context__
    return False


@dlt_assets(
    dlt_source=_spec_source(),
    dlt_pipeline=_spec_pipeline(),
    name=OP_NAME,
    dagster_dlt_translator=RawTableTranslator(),
    op_tags={"goszakup/step": "ingestion"},
)
def raw_goszakup(
    context: AssetExecutionContext, dlt: DagsterDltResource, goszakup: GoszakupResource, config: IngestConfig
) -> Iterator[MaterializeResult]:
    """Load the selected raw tables from the API (or the sandbox) into DuckDB, as the CLI does."""
    selected = {key.path[-1] for key in context.selected_asset_keys}
    entities = [name for name in ENTITIES if name in selected]
    try:
        settings = goszakup.get_settings()
    except (ValidationError, InvalidSettings) as exc:
        raise Failure(description=f"invalid settings: {_one_line(exc)}", allow_retries=False) from exc
    try:
        result = run_ingestion(
            settings,
            entities=entities,
            include_refs=REFS in selected,
            include_journal=JOURNAL in selected or bool(entities),  # deletions need the journal
            full_refresh=config.full_refresh,
            log=context.log.info,
        )
    except Exception as exc:
        fatal = source_error(exc)
        if fatal is not None and not fatal.retryable:
            context.log.error(f"not retried: {fatal}")
            raise Failure(
                description=_one_line(fatal),
                metadata={
                    "entity": fatal.entity or "",
                    "path": fatal.path or "",
                    "status": fatal.status if fatal.status is not None else -1,
                    "content_type": fatal.content_type or "",
                },
                allow_retries=False,
            ) from exc
        if is_source_error(exc) and context.retry_number < SOURCE_RETRIES:
            wait = SOURCE_RETRY_DELAY_S * 2**context.retry_number
            context.log.warning(f"source error, retry {context.retry_number + 1} in {wait:.0f} s: {exc}")
            raise RetryRequested(max_retries=SOURCE_RETRIES, seconds_to_wait=wait) from exc
        raise
    refused = quarantine_counts(result.pipeline) if QUARANTINE_TABLE in result.warehouse_rows else {}
    for key in sorted(context.selected_asset_keys, key=lambda k: k.to_user_string()):
        resource = source_resource(
            result.source, QUARANTINE_RESOURCE if key.path[-1] == QUARANTINE_TABLE else key.path[-1]
        )
        dlt_meta = dlt.extract_resource_metadata(context, resource, result.load_info, result.pipeline)
        metadata = asset_metadata(key.path[-1], result, refused, goszakup.describe_source())
        if dlt_meta.get("dagster/column_schema") is not None:
            metadata["dagster/column_schema"] = dlt_meta["dagster/column_schema"]
        yield MaterializeResult(asset_key=key, metadata=metadata)


def asset_metadata(name: str, result: IngestResult, refused: dict[str, int], source: str) -> dict[str, Any]:
    """Metadata of the raw asset ``raw/<name>`` after a load: rows loaded and held, pages, retries."""
    tables = asset_tables(name)
    loaded, held, counters = result.loaded_rows, result.warehouse_rows, result.stats.as_dict()
    coercions = result.stats.coercions_by_table()
    metadata: dict[str, Any] = {
        "rows_loaded": MetadataValue.int(sum(loaded.get(t, 0) for t in tables)),
        "dagster/row_count": MetadataValue.int(
            sum(held.get(t, 0) for t in tables) if name == REFS else held.get(name, 0)
        ),
        "rows_in_warehouse": MetadataValue.json({t: held.get(t, 0) for t in tables}),
        "pages": MetadataValue.int(counters["pages"].get(name, 0)),
        "records_received": MetadataValue.int(
            sum(counters["records"].get(t, 0) for t in (tables if name == REFS else [name]))
        ),
        "quarantined_in_warehouse": MetadataValue.int(sum(refused.get(t, 0) for t in tables)),
        "quarantined_in_run": MetadataValue.int(sum(counters["quarantined"].get(t, 0) for t in tables)),
        "refusals": MetadataValue.json([r for r in result.stats.refusals_by_table() if r["table"] in tables]),
        "coercions": MetadataValue.json({t: coercions[t] for t in tables if t in coercions}),
        "retries_in_run": MetadataValue.json(counters["retries"]),
        "source": MetadataValue.text(source),
    }
    if len(tables) > 1 and name != REFS:
        metadata["rows_loaded_by_table"] = MetadataValue.json({t: loaded.get(t, 0) for t in tables})
        metadata["children_removed_with_deleted_parents"] = MetadataValue.json(
            {t: result.deleted_children.get(t, 0) for t in tables[1:]}
        )
    if name == QUARANTINE_TABLE:
        metadata["quarantined_by_entity"] = MetadataValue.json(refused)
    metadata["dagster/table_name"] = MetadataValue.text(f"{RAW}.{name}")
    return metadata


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def quarantine_counts(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Refused records now held in ``raw._quarantine``, per entity table."""
    with pipeline.sql_client() as sql:
        table = sql.make_qualified_table_name(QUARANTINE_TABLE)
        rows = sql.execute_sql(f"SELECT entity, count(*) FROM {table} GROUP BY entity ORDER BY entity")
    return {str(entity): int(n) for entity, n in rows or []}


def source_resource(source: Any, name: str) -> Any:
    """The dlt resource ``name`` of a run's source (the quarantine resource is added beside it)."""
    if name == QUARANTINE_RESOURCE:
        return quarantine_table()
    return source.resources[name]


RAW_ASSET_KEYS: list[AssetKey] = sorted(raw_goszakup.keys, key=lambda k: k.to_user_string())
