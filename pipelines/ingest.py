"""Run the dlt ingestion: API (or sandbox) -> raw tables in DuckDB, with progress and a summary.

``python -m pipelines.ingest`` (or ``goszakup-ingest``) loads every entity. Without
``GOSZAKUP_TOKEN`` / ``GOSZAKUP_API_BASE_URL`` it starts the local sandbox for the duration of the
run, so the same command works on a fresh machine and against the real API.

After the load, children of objects the journal deleted are removed (dlt hard-deletes the parent
row; the lifted child tables are ours to keep consistent), so the raw layer holds exactly what the
API serves.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import dlt
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from pipelines.goszakup_api import ENTITIES, Entity
from pipelines.settings import SANDBOX_TOKEN, InvalidSettings, Settings, load_settings
from pipelines.sources.coercion import summary_lines
from pipelines.sources.goszakup import goszakup_source
from pipelines.sources.http import LoadStats, source_error
from pipelines.sources.records import QUARANTINE_HINTS


@dataclass
class IngestResult:
    """What one ingestion run did: rows per table, pages, retries, and the warehouse totals.

    ``pipeline``, ``source`` and ``load_info`` are kept for the Dagster asset, which derives each
    raw asset's metadata (column schema, rows) from them.
    """

    loaded_rows: dict[str, int]
    warehouse_rows: dict[str, int]
    stats: LoadStats
    seconds: float
    base_url: str
    deleted_children: dict[str, int] = field(default_factory=dict)
    pipeline: dlt.Pipeline | None = field(default=None, repr=False)
    source: Any = field(default=None, repr=False)
    load_info: Any = field(default=None, repr=False)

    def as_metadata(self) -> dict[str, Any]:
        return {
            "loaded_rows": self.loaded_rows,
            "warehouse_rows": self.warehouse_rows,
            "seconds": round(self.seconds, 2),
            **self.stats.as_dict(),
            "refusals": self.stats.refusals_by_table(),
        }


#: dlt's extract files (JSON Lines handed from extract to normalize) live on local disk for minutes;
#: gzipping them cost a quarter of the load's time (scale 10: 68 s -> 52 s without). A value in the
#: environment (``DATA_WRITER__DISABLE_COMPRESSION``) still wins over this default.
INTERMEDIATE_FILES = {"data_writer.disable_compression": True}


def make_pipeline(settings: Settings, *, progress: str | None = None) -> dlt.Pipeline:
    """The dlt pipeline writing to the configured destination (DuckDB file by default)."""
    if settings.destination == "duckdb":
        settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        credentials = DuckDbCredentials(str(settings.warehouse_path))
        credentials.global_config = dict(settings.duckdb_config)  # the load's merges stay bounded
        destination: Any = dlt.destinations.duckdb(credentials)
    else:
        destination = settings.destination
    return dlt.pipeline(
        pipeline_name=settings.pipeline_name,
        destination=destination,
        dataset_name=settings.dataset_name,
        pipelines_dir=str(settings.dlt_pipelines_dir),
        progress=progress,
    )


#: Entry-point group of the embedded default API (the sandbox package registers itself there).
LOCAL_API_GROUP = "goszakup.local_api"


def local_api() -> Any:
    """The embedded local API module (``start``, ``journal_start``), found by entry point.

    The pipeline does not import the sandbox: an installation without it still runs against a
    configured API, and says so in one line when none is configured.
    """
    found = entry_points(group=LOCAL_API_GROUP)
    if not found:
        raise InvalidSettings(
            "no API configured and no local sandbox installed: set GOSZAKUP_TOKEN or GOSZAKUP_API_BASE_URL"
        )
    return next(iter(found)).load()


@contextlib.contextmanager
def api_endpoint(settings: Settings) -> Iterator[tuple[str, str]]:
    """(base_url, token) of the configured API; starts the sandbox when none is configured."""
    if not settings.uses_sandbox:
        token = settings.token.get_secret_value() if settings.token else SANDBOX_TOKEN
        yield settings.resolved_base_url(), token
        return
    with local_api().start(
        settings.data_dir,
        seed=settings.sandbox_seed,
        scale=settings.sandbox_scale,
        host=settings.sandbox_host,
        port=settings.sandbox_port,
        rate_limit=settings.sandbox_rate_limit,
    ) as endpoint:
        yield endpoint


def quarantine_table() -> Any:
    """Declares ``_quarantine`` so it exists (empty) even when nothing was refused."""

    @dlt.resource(
        name="_quarantine_schema",
        table_name=QUARANTINE_HINTS["table_name"],
        write_disposition="merge",
        primary_key=QUARANTINE_HINTS["primary_key"],
        columns=QUARANTINE_HINTS["columns"],
    )
    def schema_only() -> Iterator[Any]:
        yield dlt.mark.materialize_table_schema()

    return schema_only


def journal_start(settings: Settings) -> dt.date:
    """First journal day of a full load (see ``Settings.journal_start_date``)."""
    if settings.journal_start_date:
        return settings.journal_start_date
    if settings.uses_sandbox:
        return local_api().journal_start()
    return dt.date.today() - dt.timedelta(days=settings.journal_lookback_days)


def build_source(
    settings: Settings,
    base_url: str,
    token: str,
    entities: Sequence[str] | None = None,
    *,
    stats: LoadStats,
    include_refs: bool = True,
    include_journal: bool = True,
) -> Any:
    """The goszakup dlt source configured from ``settings`` (one place for the CLI and Dagster)."""
    return goszakup_source(
        base_url,
        token,
        entities,
        stats=stats,
        ca_bundle=settings.ca_bundle,
        initial_date=settings.initial_date,
        graphql_page_size=settings.graphql_page_size,
        rest_page_size=settings.rest_page_size,
        journal_days_per_request=settings.journal_days_per_request,
        journal_start=journal_start(settings),
        timeout_s=settings.request_timeout_s,
        max_retries=settings.max_retries,
        backoff_factor=settings.backoff_factor,
        max_retry_delay_s=settings.max_retry_delay_s,
        rate_limit=settings.api_rate_limit,
        file_format=settings.loader_file_format,
        include_refs=include_refs,
        include_journal=include_journal,
        source_timezone=settings.source_timezone,
    )


def source_resources(entities: Sequence[str], *, include_refs: bool, include_journal: bool) -> list[str]:
    """The dlt resources a load of ``entities`` runs: each entity with its journal deletions."""
    resources = [*entities]
    if include_journal:
        resources += [f"{name}_deletions" for name in entities]
    resources += ["refs"] if include_refs else []
    resources += ["journal"] if include_journal else []
    return resources


def run_ingestion(
    settings: Settings,
    *,
    base_url: str | None = None,
    token: str | None = None,
    entities: Sequence[str] | None = None,
    progress: str | None = None,
    include_refs: bool = True,
    include_journal: bool = True,
    full_refresh: bool = False,
    log: Callable[[str], None] | None = None,
) -> IngestResult:
    """Load the selected entities (default: all) and return what was loaded.

    The one ingestion path: the CLI and the Dagster ``raw_goszakup`` asset both call it. Without
    ``base_url`` the configured API is used (the local sandbox is started when none is configured).
    ``full_refresh`` drops the selected raw tables and their cursors first. A half-extracted
    package of an earlier failed attempt is discarded, so it cannot advance any cursor.
    """
    entities = list(settings.entities or ENTITIES) if entities is None else list(entities)
    stats = LoadStats()
    started = time.monotonic()
    pipeline = make_pipeline(settings, progress=progress)
    with contextlib.ExitStack() as stack:
        if base_url is None:
            base_url, token = stack.enter_context(api_endpoint(settings))
        assert token is not None, "a token is required with an explicit base_url"
        resources = source_resources(entities, include_refs=include_refs, include_journal=include_journal)
        source = build_source(
            settings,
            base_url,
            token,
            entities,
            stats=stats,
            include_refs=include_refs,
            include_journal=include_journal,
        ).with_resources(*resources)
        pipeline.abort_packages()
        if log is not None:
            log(f"loading {', '.join(resources)} from {describe_source(settings)}")
        with dlt.config.values(INTERMEDIATE_FILES):
            load_info = pipeline.run(
                [source, quarantine_table()],
                refresh="drop_resources" if full_refresh else None,
                loader_file_format=settings.loader_file_format,
            )
        load_info.raise_on_failed_jobs()
    trace = pipeline.last_trace
    loaded = dict(sorted(trace.last_normalize_info.row_counts.items())) if trace.last_normalize_info else {}
    loaded = {t: n for t, n in loaded.items() if not t.startswith("_dlt")}
    deleted_children = remove_orphaned_children(pipeline, [ENTITIES[e] for e in entities])
    return IngestResult(
        loaded_rows=loaded,
        warehouse_rows=warehouse_counts(pipeline),
        stats=stats,
        seconds=time.monotonic() - started,
        base_url=base_url,
        deleted_children=deleted_children,
        pipeline=pipeline,
        source=source,
        load_info=load_info,
    )


def describe_source(settings: Settings) -> str:
    """A token-free description of the source, for logs and run metadata."""
    if settings.uses_sandbox:
        return f"sandbox (synthetic world, seed {settings.sandbox_seed}, scale {settings.sandbox_scale:g})"
    return settings.resolved_base_url()


def remove_orphaned_children(pipeline: dlt.Pipeline, entities: Sequence[Entity]) -> dict[str, int]:
    """Delete child rows whose parent the journal deleted (top-down, so grandchildren follow)."""
    removed: dict[str, int] = {}
    existing = set(warehouse_counts(pipeline))
    with pipeline.sql_client() as sql:
        for entity in entities:
            stack = [(entity.name, entity.primary_key, child) for child in entity.children]
            while stack:
                parent, parent_pk, child = stack.pop(0)
                if child.table in existing and parent in existing:
                    t_child = sql.make_qualified_table_name(child.table)
                    t_parent = sql.make_qualified_table_name(parent)
                    rows = sql.execute_sql(
                        f"DELETE FROM {t_child} WHERE {child.parent_key} NOT IN "
                        f"(SELECT {parent_pk} FROM {t_parent}) RETURNING 1"
                    )
                    if rows:
                        removed[child.table] = len(rows)
                stack.extend((child.table, child.primary_key, c) for c in child.children)
    return removed


def warehouse_counts(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Rows per raw table now in the destination (dlt's own bookkeeping tables excluded)."""
    schema = pipeline.default_schema
    tables = [t for t in schema.data_table_names() if not t.startswith("_dlt")]
    counts: dict[str, int] = {}
    with pipeline.sql_client() as sql:
        for table in sorted(tables):
            try:
                rows = sql.execute_sql(f"SELECT count(*) FROM {sql.make_qualified_table_name(table)}")
            except Exception:  # declared in the schema but not created yet (no data so far)
                continue
            counts[table] = int(rows[0][0])
    return counts


def print_summary(result: IngestResult) -> None:
    """A table of rows loaded and held per raw table, plus pages and retries."""
    from rich.console import Console
    from rich.table import Table

    stats = result.stats.as_dict()
    table = Table(title=f"Ingestion from {result.base_url} in {result.seconds:.1f} s")
    table.add_column("table")
    table.add_column("rows loaded", justify="right")
    table.add_column("rows in warehouse", justify="right")
    table.add_column("pages", justify="right")
    table.add_column("quarantined", justify="right")
    table.add_column("coerced", justify="right")
    coerced = {
        t: sum(n for kinds in fields.values() for n in kinds.values())
        for t, fields in stats["coercions"].items()
    }
    for name in sorted(set(result.loaded_rows) | set(result.warehouse_rows)):
        table.add_row(
            name,
            f"{result.loaded_rows.get(name, 0):,}",
            f"{result.warehouse_rows.get(name, 0):,}",
            str(stats["pages"].get(name, "")),
            str(stats["quarantined"].get(name, "") or ""),
            f"{coerced[name]:,}" if name in coerced else "",
        )
    console = Console()
    console.print(table)
    retries = stats["retries"]
    console.print(
        f"pages: {sum(stats['pages'].values())}   retries: {sum(retries.values())} {retries or ''}   "
        f"children removed with deleted parents: {result.deleted_children or 0}"
    )
    counts = [
        (t, f, k, n)
        for t, fields in stats["coercions"].items()
        for f, kinds in fields.items()
        for k, n in kinds.items()
    ]
    for line in summary_lines(counts):
        console.print(line, soft_wrap=True)
    for refusal in result.stats.refusals_by_table():
        console.print(
            f"quarantined {refusal['table']}.{refusal['field']}: {refusal['reason']}: {refusal['count']:,} "
            f"records, e.g. id {refusal['example_id']}",
            soft_wrap=True,
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="goszakup-ingest",
        description="Load the goszakup API (or, without a token, the local sandbox) into DuckDB.",
    )
    parser.add_argument("--entities", help=f"comma-separated subset of: {', '.join(ENTITIES)}")
    parser.add_argument("--scale", type=float, help="sandbox scale (1 = small test world)")
    parser.add_argument("--seed", type=int, help="sandbox seed")
    parser.add_argument("--data-dir", help="folder for the warehouse, dlt state and sandbox worlds")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (logs only)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    overrides: dict[str, Any] = {}
    if args.entities:
        overrides["entities"] = args.entities
    if args.scale is not None:
        overrides["sandbox_scale"] = args.scale
    if args.seed is not None:
        overrides["sandbox_seed"] = args.seed
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    try:
        settings = load_settings(**overrides)
    except InvalidSettings as exc:
        print(f"error: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    progress = None if args.no_progress or not sys.stderr.isatty() else "tqdm"
    try:
        result = run_ingestion(settings, progress=progress)
    except Exception as exc:  # one clear line; the full trace is in dlt's logs
        cause: BaseException | None = source_error(exc)
        if cause is None:
            cause = exc
            while cause.__cause__ is not None:
                cause = cause.__cause__
        print(f"error: ingestion failed: {' '.join(str(cause).split())}", file=sys.stderr)
        return 1
    print_summary(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
