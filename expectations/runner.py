"""Run the suites with Great Expectations and keep the results with the run.

Flow per table suite: read each batch from DuckDB into pandas (only the columns the checks need,
derived columns computed by DuckDB), validate it with a GX ``ValidationDefinition`` over a pandas
dataframe asset, and turn every expectation result into a named :class:`CheckResult`.

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

from expectations.spec import LAYERS, Batch, CheckResult, Layer, Severity, Suite
from expectations.suites import build_suite, table_names

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx  # noqa: E402  (after the analytics switch)
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402

SAMPLE_SIZE = 10
DATA_DOCS_SITE = "local_site"


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
) -> list[CheckResult]:
    """Every check of one table (one Dagster asset): ``validate_table(con, "raw", "contract")``.

    ``ocid_prefix``: the prefix the OCDS tables were built with (required for the OCDS layer).
    ``duckdb_config``: configuration of the connection opened when ``con`` is a path.
    """
    _check_layer(layer)
    with _connection(con, duckdb_config) as db:
        suite = build_suite(db, layer, table, previous, ocid_prefix=ocid_prefix)
        with _gx_context(report_dir) as context:
            results = _run_suite(db, context, suite)
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
            results.extend(_run_suite(db, context, suite))
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


def _read(con: duckdb.DuckDBPyConnection, batch: Batch) -> pd.DataFrame:
    if batch.frame is not None:
        return batch.frame.reset_index(drop=True)
    return con.execute(batch.sql()).df()


def _run_suite(con: duckdb.DuckDBPyConnection, context, suite: Suite) -> list[CheckResult]:
    results: list[CheckResult] = []
    for batch in suite.batches:
        if not batch.checks:
            continue
        frame = _read(con, batch)
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
        for check in batch.checks:
            gx_suite.add_expectation(check.expectation)
        gx_suite = context.suites.add_or_update(gx_suite)
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=gx_name, data=batch_definition, suite=gx_suite)
        )
        outcome = definition.run(
            batch_parameters={"dataframe": frame},
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE},
        )
        by_name = {r.expectation_config.meta.get("check"): r for r in outcome.results}
        for check in batch.checks:
            results.append(_to_result(suite, batch, check, by_name.get(check.name), frame))
    results.extend(suite.skipped)
    return results


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
