"""Check constructors shared by the layer suites, and warehouse catalogue look-ups.

Each constructor adds the columns it needs to a :class:`~expectations.spec.Batch` (as-is or as a
derived SQL expression) and appends one named GX expectation. Names follow
``<layer>.<table>.<column>_<rule>`` (or ``<layer>.<table>.<rule>`` for table-level rules); they
are stable: Dagster, the report, docs/quality.md and the tests refer to them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import duckdb
import great_expectations.expectations as gxe

from expectations.spec import Batch, Check, Severity, Suite, q
from pipelines.bin_iin import sql_is_valid

#: GX 1.x has its own severity field; ours maps onto it (and is also kept in ``meta``).
GX_SEVERITY = {"error": "critical", "warning": "warning"}

#: First plausible year of an event in the data (publication, signature, payment ...).
FIRST_PLAUSIBLE_YEAR = 2015
API_DATETIME_SQL_FORMAT = "%Y-%m-%d %H:%M:%S"


def last_plausible_year() -> int:
    return dt.date.today().year + 1


def add(
    batch: Batch,
    suite: Suite,
    name: str,
    result_column: str | None,
    severity: Severity,
    description: str,
    expectation_cls,
    **kwargs,
) -> Check:
    check = Check(
        name=name,
        column=result_column,
        severity=severity,
        description=description,
        expectation=expectation_cls(
            severity=GX_SEVERITY[severity],
            description=description,
            meta={"check": name, "severity": severity, "layer": suite.layer, "table": suite.table},
            **kwargs,
        ),
    )
    batch.checks.append(check)
    return check


# --- catalogue --------------------------------------------------------------------------------
def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def columns_of(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    """Column name -> DuckDB type, in table order (empty when the table does not exist)."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    return {name: type_ for name, type_ in rows}


def tables_of(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name",
        [schema],
    ).fetchall()
    return [r[0] for r in rows]


def pick(columns: Iterable[str], *candidates: str) -> str | None:
    """The first candidate present (case-insensitive, ignoring ``_`` and ``.``): OCDS columns may
    be spelt ``value_amount``, ``valueAmount`` or ``value.amount`` while the dbt models settle."""

    def norm(s: str) -> str:
        return s.replace("_", "").replace(".", "").replace("/", "").lower()

    by_norm: dict[str, str] = {}
    for col in columns:
        by_norm.setdefault(norm(col), col)
    for cand in candidates:
        hit = by_norm.get(norm(cand))
        if hit is not None:
            return hit
    return None


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence | None = None):
    return con.execute(sql, params or []).fetchone()[0]


# --- row-level rules --------------------------------------------------------------------------
def not_null(suite: Suite, batch: Batch, column: str, severity: Severity = "error") -> Check:
    batch.need(column)
    return add(
        batch,
        suite,
        f"{suite.name}.{column}_not_null",
        column,
        severity,
        f"{column} is never null.",
        gxe.ExpectColumnValuesToNotBeNull,
        column=column,
    )


def unique(suite: Suite, batch: Batch, column: str, severity: Severity = "error") -> Check:
    batch.need(column)
    return add(
        batch,
        suite,
        f"{suite.name}.{column}_unique",
        column,
        severity,
        f"{column} identifies one row: no value occurs twice.",
        gxe.ExpectColumnValuesToBeUnique,
        column=column,
    )


def primary_key(suite: Suite, batch: Batch, column: str) -> None:
    not_null(suite, batch, column)
    unique(suite, batch, column)


def non_negative(suite: Suite, batch: Batch, column: str, severity: Severity = "error") -> Check:
    """Numbers read with TRY_CAST: a text value becomes NULL here and fails ``column_types``."""
    batch.need(column, f"TRY_CAST({q(column)} AS DOUBLE)")
    return add(
        batch,
        suite,
        f"{suite.name}.{column}_non_negative",
        column,
        severity,
        f"{column} is zero or more (a negative amount is a data error).",
        gxe.ExpectColumnValuesToBeBetween,
        column=column,
        min_value=0,
    )


def between(
    suite: Suite,
    batch: Batch,
    column: str,
    low: float | None,
    high: float | None,
    rule: str,
    severity: Severity = "error",
    description: str | None = None,
) -> Check:
    batch.need(column, f"TRY_CAST({q(column)} AS DOUBLE)")
    text = description or f"{column} lies in [{low}, {high}]."
    return add(
        batch,
        suite,
        f"{suite.name}.{column}_{rule}",
        column,
        severity,
        text,
        gxe.ExpectColumnValuesToBeBetween,
        column=column,
        min_value=low,
        max_value=high,
    )


def datetime_parses(suite: Suite, batch: Batch, column: str, severity: Severity = "error") -> Check:
    """The API sends ``YYYY-MM-DD HH:MM:SS`` (local time); anything else is unreadable."""
    alias = batch.need(
        f"{column}__parses",
        f"CASE WHEN {q(column)} IS NULL THEN NULL ELSE "
        f"TRY_STRPTIME(CAST({q(column)} AS VARCHAR), '{API_DATETIME_SQL_FORMAT}') IS NOT NULL END",
    )
    batch.need(column, f"CAST({q(column)} AS VARCHAR)")
    return add(
        batch,
        suite,
        f"{suite.name}.{column}_parses",
        column,
        severity,
        f"{column} reads as a date-time 'YYYY-MM-DD HH:MM:SS'.",
        gxe.ExpectColumnValuesToBeInSet,
        column=alias,
        value_set=[True],
    )


def plausible_year(suite: Suite, batch: Batch, column: str, severity: Severity = "error") -> Check:
    low, high = FIRST_PLAUSIBLE_YEAR, last_plausible_year()
    alias = batch.need(
        f"{column}__year",
        f"year(TRY_STRPTIME(CAST({q(column)} AS VARCHAR), '{API_DATETIME_SQL_FORMAT}'))",
    )
    batch.need(column, f"CAST({q(column)} AS VARCHAR)")
    return add(
        batch,
        suite,
        f"{suite.name}.{column}_plausible_year",
        column,
        severity,
        f"The year of {column} is between {low} and {high} (current year + 1).",
        gxe.ExpectColumnValuesToBeBetween,
        column=alias,
        min_value=low,
        max_value=high,
    )


def valid_bin_iin(suite: Suite, batch: Batch, column: str, severity: Severity = "error") -> Check:
    alias = batch.need(f"{column}__valid", sql_is_valid(q(column)))
    batch.need(column, f"CAST({q(column)} AS VARCHAR)")
    return add(
        batch,
        suite,
        f"{suite.name}.{column}_valid_bin_iin",
        column,
        severity,
        f"{column} is a BIN/IIN: 12 digits with a valid check digit (empty is allowed).",
        gxe.ExpectColumnValuesToBeInSet,
        column=alias,
        value_set=[True],
    )


def in_set(
    suite: Suite,
    batch: Batch,
    column: str,
    values: Sequence,
    rule: str,
    severity: Severity = "error",
    description: str | None = None,
) -> Check:
    batch.need(column)
    text = description or f"{column} is one of {sorted(values, key=str)}."
    return add(
        batch,
        suite,
        f"{suite.name}.{column}_{rule}",
        column,
        severity,
        text,
        gxe.ExpectColumnValuesToBeInSet,
        column=column,
        value_set=list(values),
    )


def matches(
    suite: Suite,
    batch: Batch,
    column: str,
    regex: str,
    rule: str,
    severity: Severity = "error",
    description: str | None = None,
) -> Check:
    batch.need(column, f"CAST({q(column)} AS VARCHAR)")
    return add(
        batch,
        suite,
        f"{suite.name}.{column}_{rule}",
        column,
        severity,
        description or f"{column} matches {regex}.",
        gxe.ExpectColumnValuesToMatchRegex,
        column=column,
        regex=regex,
    )


def references(
    suite: Suite,
    batch: Batch,
    column: str,
    target: str,
    target_column: str,
    rule: str,
    severity: Severity = "error",
    description: str | None = None,
) -> Check:
    """``column`` (when set) occurs in ``target.target_column`` (a semi-join run by DuckDB)."""
    alias = batch.need(
        f"{column}__exists",
        f"CASE WHEN {q(column)} IS NULL THEN NULL ELSE {q(column)} IN "
        f"(SELECT {q(target_column)} FROM {target} WHERE {q(target_column)} IS NOT NULL) END",
    )
    batch.need(column)
    return add(
        batch,
        suite,
        f"{suite.name}.{column}_{rule}",
        column,
        severity,
        description or f"Every {column} exists in {target}.{target_column}.",
        gxe.ExpectColumnValuesToBeInSet,
        column=alias,
        value_set=[True],
    )


def true_where(
    suite: Suite,
    batch: Batch,
    alias: str,
    expr: str,
    name: str,
    column: str | None,
    severity: Severity,
    description: str,
) -> Check:
    """A row rule written as an SQL boolean (NULL = not applicable), expected true."""
    batch.need(alias, expr)
    return add(
        batch,
        suite,
        f"{suite.name}.{name}",
        column,
        severity,
        description,
        gxe.ExpectColumnValuesToBeInSet,
        column=alias,
        value_set=[True],
    )


# --- table-level rules ------------------------------------------------------------------------
def row_count_equal(
    suite: Suite, batch: Batch, value: int, name: str, severity: Severity, description: str
) -> Check:
    return add(
        batch,
        suite,
        f"{suite.name}.{name}",
        None,
        severity,
        description,
        gxe.ExpectTableRowCountToEqual,
        value=value,
    )


def row_count_between(
    suite: Suite,
    batch: Batch,
    low: int | None,
    high: int | None,
    name: str,
    severity: Severity,
    description: str,
) -> Check:
    return add(
        batch,
        suite,
        f"{suite.name}.{name}",
        None,
        severity,
        description,
        gxe.ExpectTableRowCountToBeBetween,
        min_value=low,
        max_value=high,
    )


def mean_between(
    suite: Suite,
    batch: Batch,
    alias: str,
    expr: str,
    low: float,
    high: float,
    name: str,
    severity: Severity,
    description: str,
) -> Check:
    batch.need(alias, expr)
    return add(
        batch,
        suite,
        f"{suite.name}.{name}",
        alias,
        severity,
        description,
        gxe.ExpectColumnMeanToBeBetween,
        column=alias,
        min_value=low,
        max_value=high,
    )
