"""Run the suites with Great Expectations and keep the results with the run.

Flow per table suite, in proportion to the data and to what changed:

- whole-table checks (row counts, means, uniqueness) are SQL aggregates in DuckDB, over the whole
  table; their thresholds are read from the suite's GX expectations;
- row-level expectations run in Great Expectations (a ``ValidationDefinition`` over a pandas
  dataframe asset) on chunks of at most :data:`CHUNK_ROWS` rows streamed from DuckDB (only the
  columns the checks need, derived columns computed by DuckDB), so no table is ever read whole
  into pandas; with ``changed_only`` only on the rows of the day's changed slice
  (:func:`changed_slice`);
- every expectation result becomes a named :class:`CheckResult` (chunk results summed).

With a ``report_dir`` the GX context is a file context under ``<report_dir>/gx``: suites and
validation results are stored there and Data Docs (static HTML) are built into
``<report_dir>/data_docs``; the runner also writes ``<layer>.summary.json`` (the machine-readable
summary, also the ``previous`` of the next build) and ``<layer>.html`` (one line per named check).
Several processes (Dagster asset checks) may share one report dir: GX work is serialised by a
file lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import html
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from expectations.spec import LAYERS, Batch, CheckResult, Layer, Severity, Suite, q
from expectations.suites import build_suite, table_names
from expectations.suites.common import columns_of, table_exists

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx  # noqa: E402  (after the analytics switch)
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402

SAMPLE_SIZE = 10
DATA_DOCS_SITE = "local_site"
#: Rows per pandas chunk of the row-level expectations (bounds the checks' memory at any scale).
CHUNK_ROWS = 262_144
#: Expectations over the whole table, computed as SQL aggregates in DuckDB instead of in pandas.
AGGREGATE_EXPECTATIONS = (
    gx.expectations.ExpectColumnValuesToBeUnique,
    gx.expectations.ExpectTableRowCountToEqual,
    gx.expectations.ExpectTableRowCountToBeBetween,
    gx.expectations.ExpectColumnMeanToBeBetween,
)
#: The processes the last dbt build redid (dbt_project/models/intermediate): the OCDS slice.
CHANGED_RELEASES = "intermediate.int_goszakup__changed_releases"
#: The last dbt build's state: the newest dlt load before it (the raw slice) ...
BUILD_STATE = "intermediate.int_goszakup__build_state"


@dataclass
class LayerResult:
    """Every check of one layer. ``passed`` is what gates publishing."""

    layer: str
    results: list[CheckResult]
    report_dir: Path | None = None
    #: numbers kept between builds (row counts, single-source share ...): see ``previous``
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """No error-severity check failed (warnings never block)."""
        return not self.failures("error")

    def failures(self, severity: Severity | None = None) -> list[CheckResult]:
        return [r for r in self.results if not r.success and (severity is None or r.severity == severity)]

    def result(self, name: str) -> CheckResult:
        """The result of the check called ``name`` (KeyError naming the layer's checks if absent)."""
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"no check {name!r} in layer {self.layer}; checks: {[r.name for r in self.results]}")

    def summary(self) -> dict:
        """JSON-able summary: pass/fail, counts, failures, metrics, and every check's outcome."""
        return {
            "layer": self.layer,
            "passed": self.passed,
            "checks": len(self.results),
            "failed_errors": len(self.failures("error")),
            "failed_warnings": len(self.failures("warning")),
            "skipped": sum(r.skipped for r in self.results),
            "failures": [_jsonable(r.as_dict()) for r in self.failures()],
            "results": {
                r.name: {"severity": r.severity, "success": r.success, "unexpected_count": r.unexpected_count}
                for r in self.results
            },
            "metrics": _jsonable(self.metrics),
            "data_docs": str(self.report_dir / "data_docs" / "index.html") if self.report_dir else None,
        }


def asset_check_outcome(results: list[CheckResult]) -> dict:
    """What a Dagster asset check returns for one suite, without importing Dagster.

    ``AssetCheckResult(passed=o["passed"], severity=AssetCheckSeverity[o["severity"]],
    metadata=o["metadata"])``: an error-severity failure gives ``ERROR`` (blocks downstream when
    the check is declared ``blocking=True``); only warnings give ``WARN``.
    """
    errors = [r for r in results if not r.success and r.severity == "error"]
    warnings = [r for r in results if not r.success and r.severity == "warning"]
    return {
        "passed": not errors and not warnings,
        "severity": "ERROR" if errors else "WARN",
        "metadata": {
            "checks": len(results),
            "failed_errors": [r.name for r in errors],
            "failed_warnings": [r.name for r in warnings],
            "failures": _jsonable(
                [
                    {
                        "name": r.name,
                        "unexpected_count": r.unexpected_count,
                        "sample": r.sample[:3],
                        "description": r.description,
                    }
                    for r in errors + warnings
                ]
            ),
        },
    }


# --- public entry points ----------------------------------------------------------------------
def suite_names(layer: Layer, con: duckdb.DuckDBPyConnection | None = None) -> list[str]:
    """Suite names (``layer.table``) of a layer: one Dagster asset check each.

    Without ``con`` the raw and OCDS lists are the expected tables; the risk marts are discovered,
    so for ``risk`` pass a connection (without one the list is empty).
    """
    _check_layer(layer)
    return [f"{layer}.{t}" for t in table_names(layer, con)]


def validate_table(
    con: duckdb.DuckDBPyConnection | Path | str,
    layer: Layer,
    table: str,
    *,
    report_dir: Path | None = None,
    previous: dict | None = None,
    ocid_prefix: str | None = None,
    duckdb_config: dict[str, str] | None = None,
    changed_only: bool = False,
) -> list[CheckResult]:
    """Every check of one table (one Dagster asset): ``validate_table(con, "raw", "contract")``.

    ``ocid_prefix``: the prefix the OCDS tables were built with (required for the OCDS layer).
    ``duckdb_config``: configuration of the connection opened when ``con`` is a path.
    ``changed_only``: row-level expectations on the rows the last build changed only (a daily
    update whose previous checks passed); whole-table checks always cover the whole table.
    """
    _check_layer(layer)
    with _connection(con, duckdb_config) as db:
        suite = build_suite(db, layer, table, previous, ocid_prefix=ocid_prefix)
        row_filter = changed_slice(db, layer, table) if changed_only else None
        with _gx_context(report_dir) as context:
            results = _run_suite(db, context, suite, row_filter)
            if report_dir is not None:
                _build_docs(context)
    if report_dir is not None:
        _write_json(
            Path(report_dir) / "suites" / f"{suite.name}.json",
            {"suite": suite.name, "metrics": suite.metrics, "results": [r.as_dict() for r in results]},
        )
    return results


def validate_layer(
    warehouse: Path | str | duckdb.DuckDBPyConnection,
    layer: Layer,
    *,
    report_dir: Path | None = None,
    previous: dict | None = None,
    ocid_prefix: str | None = None,
    duckdb_config: dict[str, str] | None = None,
    changed_only: bool = False,
) -> LayerResult:
    """Every suite of a layer. ``previous`` is the ``summary()`` of the previous build (for the
    distribution checks); with ``report_dir`` Data Docs and summaries are written there.
    ``ocid_prefix`` and ``duckdb_config`` as for :func:`validate_table`."""
    _check_layer(layer)
    results: list[CheckResult] = []
    metrics: dict[str, Any] = {}
    report = Path(report_dir) if report_dir is not None else None
    with _connection(warehouse, duckdb_config) as db, _gx_context(report) as context:
        for table in table_names(layer, db):
            suite = build_suite(db, layer, table, previous, ocid_prefix=ocid_prefix)
            row_filter = changed_slice(db, layer, table) if changed_only else None
            results.extend(_run_suite(db, context, suite, row_filter))
            metrics.update(suite.metrics)
        if report is not None:
            _build_docs(context)
    outcome = LayerResult(layer=layer, results=results, report_dir=report, metrics=metrics)
    if report is not None:
        _write_json(report / f"{layer}.summary.json", outcome.summary())
        _write_html(report / f"{layer}.html", outcome)
    return outcome


# --- internals --------------------------------------------------------------------------------
def _check_layer(layer: str) -> None:
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}; layers: {', '.join(LAYERS)}")


@contextlib.contextmanager
def _connection(warehouse, config: dict[str, str] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    if isinstance(warehouse, duckdb.DuckDBPyConnection):
        yield warehouse
        return
    path = Path(warehouse)
    if not path.is_file():
        raise FileNotFoundError(f"warehouse {path} does not exist")
    # the caller's config carries the memory limit (DuckDB's default is 80 % of RAM)
    con = duckdb.connect(str(path), read_only=True, config=dict(config or {}))
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def _gx_context(report_dir: Path | None):
    """An ephemeral context, or a file context in ``report_dir`` held under a lock."""
    if report_dir is None:
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        yield context
        return
    report_dir = Path(report_dir).resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    with open(report_dir / ".gx.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            context = gx.get_context(mode="file", project_root_dir=str(report_dir))
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            site = {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(report_dir / "data_docs"),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
            sites = context.get_config().data_docs_sites or {}
            if DATA_DOCS_SITE in sites:
                context.update_data_docs_site(DATA_DOCS_SITE, site)
            else:
                context.add_data_docs_site(DATA_DOCS_SITE, site)
            yield context
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build_docs(context) -> None:
    context.build_data_docs(site_names=[DATA_DOCS_SITE])


def changed_slice(con: duckdb.DuckDBPyConnection, layer: str, table: str) -> str | None:
    """SQL condition on ``layer.table`` selecting the rows the last dbt build changed, or None (the
    whole table) when the table has no such key or no incremental build state exists.

    OCDS: the rows of the processes the build redid. Raw: the rows dlt loaded after the build
    before it (``_dlt_load_id`` newer than that build's newest load)."""
    schema = "raw" if layer == "raw" else layer

    def exists(relation: str) -> bool:
        s, t = relation.split(".")
        return table_exists(con, s, t)

    columns = columns_of(con, schema, table)
    if layer == "ocds" and "ocid" in columns and exists(CHANGED_RELEASES):
        return f"ocid IN (SELECT ocid FROM {CHANGED_RELEASES})"
    if layer == "raw" and "_dlt_load_id" in columns and exists(BUILD_STATE):
        state = columns_of(con, *BUILD_STATE.split("."))
        if "previous_load_id" in state:
            return (
                "TRY_CAST(_dlt_load_id AS DOUBLE) > coalesce((SELECT TRY_CAST(previous_load_id AS DOUBLE) "
                f"FROM {BUILD_STATE}), -1)"
            )
    return None


def _chunks(con: duckdb.DuckDBPyConnection, batch: Batch, row_filter: str | None) -> Iterator[pd.DataFrame]:
    """The batch's rows as dataframes of at most CHUNK_ROWS rows (at least one, maybe empty)."""
    if batch.frame is not None:
        yield batch.frame.reset_index(drop=True)
        return
    sql = batch.sql() + (f" WHERE {row_filter}" if row_filter else "")
    cursor = con.cursor()
    try:
        result = cursor.execute(sql)
        vectors = max(1, CHUNK_ROWS // 2048)
        first = True
        while True:
            frame = result.fetch_df_chunk(vectors)
            if frame.empty and not first:
                return
            yield frame
            first = False
            if frame.empty:
                return
    finally:
        cursor.close()


def _validation(context, suite: Suite, batch: Batch, checks: list):
    """The GX validation definition of a batch's row-level expectations (stored with the suite)."""
    gx_name = suite.name if batch.name == "rows" else f"{suite.name}.{batch.name}"
    source = context.data_sources.add_or_update_pandas("warehouse")
    try:
        asset = source.get_asset(gx_name)
    except LookupError:
        asset = source.add_dataframe_asset(gx_name)
    try:
        batch_definition = asset.get_batch_definition("whole")
    except (KeyError, LookupError):
        batch_definition = asset.add_batch_definition_whole_dataframe("whole")
    gx_suite = gx.ExpectationSuite(name=gx_name, meta={"layer": suite.layer, "table": suite.table})
    for check in checks:
        gx_suite.add_expectation(check.expectation)
    gx_suite = context.suites.add_or_update(gx_suite)
    return context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=gx_name, data=batch_definition, suite=gx_suite)
    )


def _run_suite(
    con: duckdb.DuckDBPyConnection, context, suite: Suite, row_filter: str | None = None
) -> list[CheckResult]:
    results: list[CheckResult] = []
    for batch in suite.batches:
        if not batch.checks:
            continue
        in_sql = batch.frame is None
        aggregates = [c for c in batch.checks if in_sql and isinstance(c.expectation, AGGREGATE_EXPECTATIONS)]
        row_checks = [c for c in batch.checks if c not in aggregates]
        by_name: dict[str, CheckResult] = {
            c.name: _aggregate_result(con, suite, batch, c) for c in aggregates
        }
        if row_checks:
            definition = _validation(context, suite, batch, row_checks)
            merged: dict[str, CheckResult] = {}
            offset = 0
            for frame in _chunks(con, batch, row_filter):
                outcome = definition.run(
                    batch_parameters={"dataframe": frame},
                    result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE},
                )
                gx_by_name = {r.expectation_config.meta.get("check"): r for r in outcome.results}
                for check in row_checks:
                    part = _to_result(suite, batch, check, gx_by_name.get(check.name), frame)
                    merged[check.name] = _merge(merged.get(check.name), part)
                offset += len(frame)
            if row_filter:
                for result in merged.values():
                    result.description += f" (rows changed by the last build: {offset})"
            by_name.update(merged)
        results.extend(by_name[c.name] for c in batch.checks)
    results.extend(suite.skipped)
    return results


def _merge(total: CheckResult | None, part: CheckResult) -> CheckResult:
    """One check's result over the chunks so far: unexpected rows summed, samples concatenated."""
    if total is None:
        return part
    total.success = total.success and part.success
    total.unexpected_count += part.unexpected_count
    total.sample = (total.sample + part.sample)[:SAMPLE_SIZE]
    if part.description != total.description and "GX raised" in part.description:
        total.description = part.description
    return total


def _aggregate_result(con: duckdb.DuckDBPyConnection, suite: Suite, batch: Batch, check) -> CheckResult:
    """A whole-table expectation evaluated by DuckDB (same semantics as GX's, without pandas)."""
    e = check.expectation
    table = f"({batch.sql()}) AS t"
    observed: Any = None
    unexpected = 0
    sample: list = []
    if isinstance(e, gx.expectations.ExpectColumnValuesToBeUnique):
        col = q(e.column)
        dup = (
            f"SELECT * FROM {table} WHERE {col} IN "
            f"(SELECT {col} FROM {table} WHERE {col} IS NOT NULL GROUP BY {col} HAVING count(*) > 1)"
        )
        unexpected = con.execute(f"SELECT count(*) FROM ({dup})").fetchone()[0]
        if unexpected:
            cols = list(dict.fromkeys([*batch.index_columns, check.column or e.column]))
            cols = [c for c in cols if c in batch.select]
            sample = (
                con.execute(
                    f"SELECT {', '.join(q(c) for c in cols)} FROM ({dup}) ORDER BY ALL LIMIT {SAMPLE_SIZE}"
                )
                .df()
                .to_dict("records")
            )
        success = unexpected == 0
    elif isinstance(e, gx.expectations.ExpectColumnMeanToBeBetween):
        observed = con.execute(f"SELECT avg({q(e.column)}) FROM {table}").fetchone()[0]
        success = _within(observed, e.min_value, e.max_value)
    else:
        observed = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        if isinstance(e, gx.expectations.ExpectTableRowCountToEqual):
            success = observed == e.value
        else:
            success = _within(observed, e.min_value, e.max_value)
        if not success and batch.index_columns and observed:  # which rows, as GX's runner showed
            cols = ", ".join(q(c) for c in batch.index_columns)
            sample = con.execute(f"SELECT {cols} FROM {table} LIMIT {SAMPLE_SIZE}").df().to_dict("records")
    return CheckResult(
        name=check.name,
        layer=suite.layer,
        table=suite.table,
        column=check.column,
        severity=check.severity,
        description=check.description,
        success=bool(success),
        unexpected_count=int(unexpected),
        sample=_jsonable(sample),
        observed=_jsonable(observed),
    )


def _within(value: Any, low: Any, high: Any) -> bool:
    """GX's between: inclusive bounds, None = unbounded; no value (empty table) fails."""
    if value is None:
        return False
    return (low is None or value >= low) and (high is None or value <= high)


def _to_result(suite: Suite, batch: Batch, check, gx_result, frame: pd.DataFrame) -> CheckResult:
    base = dict(
        name=check.name,
        layer=suite.layer,
        table=suite.table,
        column=check.column,
        severity=check.severity,
        description=check.description,
    )
    if gx_result is None:  # cannot happen unless GX drops an expectation: say so, fail
        return CheckResult(
            **base,
            success=False,
            unexpected_count=0,
            sample=[],
            description=f"{check.description} (no result from Great Expectations)",
        )
    result = gx_result.result or {}
    exception = _exception(gx_result)
    unexpected = int(result.get("unexpected_count") or 0)
    sample: list = []
    positions = result.get("partial_unexpected_index_list") or []
    if positions and all(isinstance(p, int | float) for p in positions):
        cols = list(dict.fromkeys([*batch.index_columns, *([check.column] if check.column else [])]))
        cols = [c for c in cols if c in frame.columns]
        sample = frame.iloc[[int(p) for p in positions[:SAMPLE_SIZE]]][cols].to_dict("records")
    elif positions:
        sample = positions[:SAMPLE_SIZE]
    elif not gx_result.success and batch.index_columns and not frame.empty and check.column is None:
        sample = frame[batch.index_columns].head(SAMPLE_SIZE).to_dict("records")
    description = check.description + (f" (GX raised: {exception})" if exception else "")
    observed = result.get("observed_value")
    return CheckResult(
        **{**base, "description": description},
        success=bool(gx_result.success),
        unexpected_count=unexpected,
        sample=_jsonable(sample),
        observed=_jsonable(observed),
    )


def _exception(gx_result) -> str | None:
    info = gx_result.exception_info or {}
    if info.get("raised_exception"):
        return info.get("exception_message")
    for value in info.values():  # keyed by metric when several metrics failed
        if isinstance(value, dict) and value.get("raised_exception"):
            return value.get("exception_message")
    return None


def _jsonable(value: Any) -> Any:
    """numpy/pandas scalars -> Python, NaN/NA -> None (JSON and Dagster metadata need it)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if hasattr(value, "item"):
        try:
            return _jsonable(value.item())
        except (ValueError, TypeError):
            pass
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(_jsonable(payload), ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def _write_html(path: Path, outcome: LayerResult) -> None:
    """One line per named check (Data Docs show expectations, not our names and severities)."""
    rows = []
    for r in sorted(outcome.results, key=lambda r: (r.success, r.severity != "error", r.name)):
        state = "skipped" if r.skipped else ("pass" if r.success else "FAIL")
        rows.append(
            f"<tr class='{state.lower()} {r.severity}'><td>{html.escape(r.name)}</td><td>{r.severity}</td>"
            f"<td>{state}</td><td>{r.unexpected_count}</td><td>{html.escape(r.description)}</td>"
            f"<td><code>{html.escape(json.dumps(r.sample[:3], ensure_ascii=False, default=str))}</code></td></tr>"
        )
    verdict = "passed" if outcome.passed else "BLOCKED: error-severity checks failed"
    path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Quality report: {outcome.layer}</title><style>"
        "body{font-family:sans-serif}td{border-bottom:1px solid #ddd;padding:2px 6px;vertical-align:top}"
        "tr.fail.error{background:#fdd}tr.fail.warning{background:#ffe}tr.skipped{color:#777}"
        "</style></head><body>"
        f"<h1>Quality report: {outcome.layer} layer</h1><p>{verdict}. "
        f"{len(outcome.results)} checks, {len(outcome.failures('error'))} error failures, "
        f"{len(outcome.failures('warning'))} warning failures. "
        "Great Expectations Data Docs: <a href='data_docs/index.html'>data_docs/index.html</a>. "
        "Check names are explained in docs/quality.md.</p>"
        "<table><tr><th>check</th><th>severity</th><th>result</th><th>unexpected</th>"
        "<th>meaning</th><th>sample</th></tr>" + "".join(rows) + "</table></body></html>\n",
        encoding="utf-8",
    )
