"""Suites of the raw layer (schema ``raw``, loaded by the dlt connector).

Table, column and key names come from ``pipelines.goszakup_api`` (the contract), so a field added
there is type-checked here without an edit. What is checked, per table:

- keys: the primary key is never null and unique; a child's parent key is set and its parent exists;
- schema: every contract field present has a DuckDB type compatible with its contract type, and
  no dlt variant column (``<field>__v_text`` ...) appeared (a field that changed type);
- values: no negative sums, datetimes readable, event dates in plausible years, BIN/IIN check
  digits, codes present in the reference tables, contracts referring to an existing announcement;
- volume: core tables not empty; ``raw._quarantine`` empty (a warning: the records are kept there);
- distribution: the share of single-source announcements within 10 points of the previous build.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from expectations.spec import Batch, Suite, q
from expectations.suites import common as c
from pipelines.goszakup_api import (
    ENTITIES,
    REF_FIELDS,
    REF_TABLES,
    SINGLE_SOURCE_METHODS,
    Child,
    Entity,
    Field,
)

SCHEMA = "raw"
QUARANTINE_TABLE = "_quarantine"
JOURNAL_TABLE = "journal"
#: Tables without which nothing can be published: missing or empty is an error.
CORE_TABLES = frozenset({"trd_buy", "lots", "contract"})
#: Reference tables other checks depend on: empty is an error.
CORE_REFS = frozenset({"ref_trade_methods", "ref_currency"})
#: How far (in share points) the single-source share may move between builds before a warning.
SHARE_BAND = 0.10

_INT = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
}
_FLOAT = {"FLOAT", "REAL", "DOUBLE"}


def type_compatible(contract_type: str, duckdb_type: str) -> bool:
    """Whether a DuckDB column type can hold a contract field type without loss."""
    t = duckdb_type.upper()
    if contract_type == "int":
        return t in _INT
    if contract_type == "float":
        return t in _INT or t in _FLOAT or t.startswith("DECIMAL")
    if contract_type == "bool":
        return t == "BOOLEAN" or t in _INT
    if contract_type in ("str", "datetime"):
        return t == "VARCHAR"
    if contract_type.endswith("[]"):
        return t in ("JSON", "VARCHAR") or t.endswith("[]")
    return False


def _table_specs() -> dict[str, tuple[str, tuple[Field, ...], Child | None, str | None]]:
    """raw table -> (primary key, contract fields, child spec or None, parent table or None)."""
    out: dict[str, tuple[str, tuple[Field, ...], Child | None, str | None]] = {}

    def walk(parent: str, children: tuple[Child, ...]) -> None:
        for child in children:
            out[child.table] = (child.primary_key, child.fields, child, parent)
            walk(child.table, child.children)

    for ent in ENTITIES.values():
        out[ent.name] = (ent.primary_key, ent.fields, None, None)
        walk(ent.name, ent.children)
    for ref in REF_TABLES:
        out[ref] = ("id", REF_FIELDS, None, None)
    return out


TABLE_SPECS = _table_specs()


def table_names() -> list[str]:
    """Every raw table with a suite, in a stable order."""
    return [*TABLE_SPECS, JOURNAL_TABLE, QUARANTINE_TABLE]


def _entity(table: str) -> Entity | None:
    return ENTITIES.get(table)


def _ref_values(con: duckdb.DuckDBPyConnection, ref: str, column: str) -> list | None:
    if column not in c.columns_of(con, SCHEMA, ref):
        return None
    rows = con.execute(
        f"SELECT DISTINCT {q(column)} FROM {SCHEMA}.{q(ref)} WHERE {q(column)} IS NOT NULL"
    ).fetchall()
    return [r[0] for r in rows] or None


def _code_in_ref(
    con,
    suite: Suite,
    batch: Batch,
    columns: dict[str, str],
    column: str,
    ref: str,
    ref_column: str,
    severity: c.Severity,
) -> None:
    if column not in columns:
        return
    values = _ref_values(con, ref, ref_column)
    name = f"{suite.name}.{column}_in_{ref}"
    if values is None:
        suite.skip(name, column, "warning", f"{SCHEMA}.{ref}.{ref_column} is missing or empty")
        return
    c.in_set(
        suite,
        batch,
        column,
        values,
        f"in_{ref}",
        severity,
        f"{column} is a known code of {SCHEMA}.{ref} ({ref_column}).",
    )


def build(con: duckdb.DuckDBPyConnection, table: str, previous: dict | None = None) -> Suite:
    """The suite of ``raw.<table>`` for the warehouse behind ``con``."""
    suite = Suite(name=f"{SCHEMA}.{table}", layer="raw", table=table)
    columns = c.columns_of(con, SCHEMA, table)
    core = table in CORE_TABLES or table in CORE_REFS
    if table == QUARANTINE_TABLE:
        return _quarantine(con, suite, columns)
    if not columns:
        suite.skip(
            f"{suite.name}.exists",
            None,
            "error" if core else "warning",
            f"table {SCHEMA}.{table} does not exist",
        )
        return suite
    suite.metrics[f"{suite.name}.row_count"] = c.scalar(con, f"SELECT count(*) FROM {SCHEMA}.{q(table)}")
    if table == JOURNAL_TABLE:
        return _journal(suite, columns)

    pk, fields, child, parent = TABLE_SPECS[table]
    rows = Batch("rows", index_columns=[pk] if pk in columns else [], source=f"{SCHEMA}.{q(table)}")
    suite.batches.append(rows)
    c.row_count_between(
        suite,
        rows,
        1,
        None,
        "not_empty",
        "error" if core else "warning",
        f"{SCHEMA}.{table} has at least one row.",
    )
    _schema_batch(suite, columns, fields)

    if pk in columns:
        c.primary_key(suite, rows, pk)
    else:
        suite.skip(f"{suite.name}.{pk}_unique", pk, "error", f"primary key column {pk} is missing")
    if child is not None and child.parent_key in columns:
        parent_pk = TABLE_SPECS[parent][0]
        c.not_null(suite, rows, child.parent_key)
        if c.table_exists(con, SCHEMA, parent):
            c.references(
                suite,
                rows,
                child.parent_key,
                f"{SCHEMA}.{q(parent)}",
                parent_pk,
                f"references_{parent}",
                "error",
                f"Every {table} row belongs to an existing {parent} ({child.parent_key}).",
            )
    for f in fields:
        if f.type == "datetime" and f.name in columns:
            c.datetime_parses(suite, rows, f.name)

    specific = _SPECIFIC.get(table)
    if specific is not None:
        specific(con, suite, rows, columns, previous)
    return suite


def _schema_batch(suite: Suite, columns: dict[str, str], fields: tuple[Field, ...]) -> None:
    """Column types against the contract, as a small dataframe (one row per column)."""
    records = []
    for f in fields:
        if f.name in columns:
            records.append(
                {
                    "column_name": f.name,
                    "duckdb_type": columns[f.name],
                    "contract_type": f.type,
                    "type_ok": type_compatible(f.type, columns[f.name]),
                }
            )
    # dlt adds '<field>__v_<type>' when a value of another type arrives for an existing column
    for name, type_ in columns.items():
        if "__v_" in name:
            records.append(
                {"column_name": name, "duckdb_type": type_, "contract_type": "variant", "type_ok": False}
            )
    frame = pd.DataFrame.from_records(
        records, columns=["column_name", "duckdb_type", "contract_type", "type_ok"]
    ).astype({"type_ok": "bool"})
    batch = Batch("columns", index_columns=["column_name", "duckdb_type", "contract_type"], frame=frame)
    suite.batches.append(batch)
    c.add(
        batch,
        suite,
        f"{suite.name}.column_types",
        None,
        "error",
        "Every contract field has a DuckDB type compatible with its contract type, and no dlt "
        "variant column (a field that changed type) exists.",
        c.gxe.ExpectColumnValuesToBeInSet,
        column="type_ok",
        value_set=[True],
    )
    present = pd.DataFrame(
        {"field": [f.name for f in fields], "present": [f.name in columns for f in fields]}
    )
    batch2 = Batch("fields", index_columns=["field"], frame=present)
    suite.batches.append(batch2)
    c.add(
        batch2,
        suite,
        f"{suite.name}.columns_present",
        None,
        "warning",
        "Every field of the API contract is a column (dlt omits fields that were always null).",
        c.gxe.ExpectColumnValuesToBeInSet,
        column="present",
        value_set=[True],
    )


def _quarantine(con, suite: Suite, columns: dict[str, str]) -> Suite:
    if not columns:
        suite.skip(f"{suite.name}.empty", None, "warning", f"{SCHEMA}.{QUARANTINE_TABLE} does not exist")
        return suite
    n = c.scalar(con, f"SELECT count(*) FROM {SCHEMA}.{q(QUARANTINE_TABLE)}")
    suite.metrics[f"{suite.name}.row_count"] = n
    index = [col for col in ("entity", "record_id", "field", "reason") if col in columns]
    batch = Batch("rows", index_columns=index, source=f"{SCHEMA}.{q(QUARANTINE_TABLE)}")
    suite.batches.append(batch)
    c.row_count_equal(
        suite,
        batch,
        0,
        "empty",
        "warning",
        "No record was refused at ingestion. Refused records are kept in "
        "raw._quarantine with the field and the reason, and published with the data.",
    )
    return suite


def _journal(suite: Suite, columns: dict[str, str]) -> Suite:
    rows = Batch("rows", index_columns=[], source=f"{SCHEMA}.{JOURNAL_TABLE}")
    suite.batches.append(rows)
    if "action" in columns:
        c.in_set(
            suite,
            rows,
            "action",
            ["U", "D"],
            "known",
            "warning",
            "Journal actions are U (updated) or D (deleted).",
        )
    if "object_id" in columns:
        c.not_null(suite, rows, "object_id", "warning")
    if "date_action" in columns:
        c.datetime_parses(suite, rows, "date_action", "warning")
    return suite


# --- table-specific rules ---------------------------------------------------------------------
def _money(suite, rows, columns, errors=(), warnings=()) -> None:
    for col in errors:
        if col in columns:
            c.non_negative(suite, rows, col, "error")
    for col in warnings:
        if col in columns:
            c.non_negative(suite, rows, col, "warning")


def _bins(suite, rows, columns, errors=(), warnings=()) -> None:
    for col in errors:
        if col in columns:
            c.valid_bin_iin(suite, rows, col, "error")
    for col in warnings:
        if col in columns:
            c.valid_bin_iin(suite, rows, col, "warning")


def _years(suite, rows, columns, errors=(), warnings=()) -> None:
    for col in errors:
        if col in columns:
            c.plausible_year(suite, rows, col, "error")
    for col in warnings:
        if col in columns:
            c.plausible_year(suite, rows, col, "warning")


def _fin_year(suite, rows, columns, col: str) -> None:
    if col in columns:
        c.between(
            suite,
            rows,
            col,
            c.FIRST_PLAUSIBLE_YEAR,
            c.last_plausible_year(),
            "plausible",
            "warning",
            f"{col} is between {c.FIRST_PLAUSIBLE_YEAR} and next year.",
        )


def _refers(con, suite, rows, columns, column, target, severity, rule=None, description=None) -> None:
    if column not in columns:
        return
    name = rule or f"references_{target}"
    if not c.table_exists(con, SCHEMA, target):
        suite.skip(f"{suite.name}.{column}_{name}", column, "warning", f"{SCHEMA}.{target} does not exist")
        return
    c.references(
        suite, rows, column, f"{SCHEMA}.{q(target)}", TABLE_SPECS[target][0], name, severity, description
    )


def _ordered(suite, rows, columns, first: str, then: str, severity) -> None:
    if first in columns and then in columns:
        fmt = c.API_DATETIME_SQL_FORMAT
        a = f"TRY_STRPTIME(CAST({q(first)} AS VARCHAR), '{fmt}')"
        b = f"TRY_STRPTIME(CAST({q(then)} AS VARCHAR), '{fmt}')"
        rows.need(first, f"CAST({q(first)} AS VARCHAR)")
        rows.need(then, f"CAST({q(then)} AS VARCHAR)")
        c.true_where(
            suite,
            rows,
            f"{then}__after_{first}",
            f"CASE WHEN {a} IS NULL OR {b} IS NULL THEN NULL ELSE {b} >= {a} END",
            f"{then}_not_before_{first}",
            then,
            severity,
            f"{then} is not before {first}.",
        )


def _trd_buy(con, suite: Suite, rows: Batch, columns, previous) -> None:
    _money(suite, rows, columns, errors=["total_sum"], warnings=["count_lots"])
    _years(suite, rows, columns, errors=["publish_date"], warnings=["start_date"])
    _bins(suite, rows, columns, errors=["customer_bin"], warnings=["org_bin", "biin_supplier"])
    _code_in_ref(con, suite, rows, columns, "ref_trade_methods_id", "ref_trade_methods", "id", "error")
    _code_in_ref(con, suite, rows, columns, "ref_buy_status_id", "ref_buy_status", "id", "warning")
    _fin_year(suite, rows, columns, "fin_year")
    _ordered(suite, rows, columns, "start_date", "end_date", "warning")
    if "ref_trade_methods_id" in columns:
        codes = ", ".join(str(m) for m in sorted(SINGLE_SOURCE_METHODS))
        expr = f"CASE WHEN ref_trade_methods_id IS NULL THEN NULL ELSE ref_trade_methods_id IN ({codes}) END"
        share = c.scalar(con, f"SELECT avg(CAST({expr} AS DOUBLE)) FROM {SCHEMA}.trd_buy")
        metric = f"{suite.name}.single_source_share"
        suite.metrics[metric] = share
        single_source_band(
            suite,
            rows,
            "ref_trade_methods_id__single_source",
            expr,
            metric,
            previous,
            f"Share of single-source announcements (methods {codes})",
        )


def single_source_band(
    suite: Suite, rows: Batch, alias: str, expr: str, metric: str, previous: dict | None, what: str
) -> None:
    """Warn when ``what`` moved more than :data:`SHARE_BAND` from the previous build's value."""
    before = ((previous or {}).get("metrics") or {}).get(metric)
    if before is None:
        low, high = 0.0, 1.0
        text = f"{what} is a share in [0, 1] (no previous build to compare with)."
    else:
        low, high = max(0.0, before - SHARE_BAND), min(1.0, before + SHARE_BAND)
        text = (
            f"{what} is within {SHARE_BAND:.0%} points of the previous build's "
            f"{before:.3f}: [{low:.3f}, {high:.3f}]."
        )
    c.mean_between(
        suite,
        rows,
        alias,
        f"CAST({expr} AS DOUBLE)",
        low,
        high,
        "single_source_share_stable",
        "warning",
        text,
    )


def _lots(con, suite, rows, columns, previous) -> None:
    _money(suite, rows, columns, errors=["amount"], warnings=["count"])
    _bins(suite, rows, columns, warnings=["customer_bin"])
    _refers(
        con,
        suite,
        rows,
        columns,
        "trd_buy_id",
        "trd_buy",
        "error",
        "references_announcement",
        "Every lot belongs to an existing announcement (raw.trd_buy).",
    )
    _code_in_ref(con, suite, rows, columns, "ref_trade_methods_id", "ref_trade_methods", "id", "warning")
    _code_in_ref(con, suite, rows, columns, "ref_buy_trade_methods_id", "ref_trade_methods", "id", "warning")


def _contract(con, suite, rows, columns, previous) -> None:
    _money(
        suite,
        rows,
        columns,
        errors=["contract_sum", "contract_sum_wnds"],
        warnings=["fakt_sum", "fakt_sum_wnds"],
    )
    if "exchange_rate" in columns:
        c.between(
            suite, rows, "exchange_rate", 0, None, "non_negative", "warning", "exchange_rate is zero or more."
        )
    _bins(suite, rows, columns, errors=["customer_bin", "supplier_biin"])
    _refers(
        con,
        suite,
        rows,
        columns,
        "trd_buy_id",
        "trd_buy",
        "error",
        "references_announcement",
        "Every contract with a trd_buy_id refers to an existing announcement (raw.trd_buy).",
    )
    _refers(
        con,
        suite,
        rows,
        columns,
        "parent_id",
        "contract",
        "warning",
        "references_contract",
        "An amendment's parent_id is an existing contract.",
    )
    _code_in_ref(con, suite, rows, columns, "ref_currency_code", "ref_currency", "code", "error")
    _code_in_ref(con, suite, rows, columns, "fakt_trade_methods_id", "ref_trade_methods", "id", "warning")
    _years(suite, rows, columns, errors=["sign_date"], warnings=["crdate"])
    _fin_year(suite, rows, columns, "fin_year")


def _contract_units(con, suite, rows, columns, previous) -> None:
    _money(suite, rows, columns, errors=["total_sum"], warnings=["item_price", "quantity", "fact_sum"])
    _refers(con, suite, rows, columns, "lot_id", "lots", "warning")


def _treasury_pay(con, suite, rows, columns, previous) -> None:
    # refunds may be negative in the real data (unconfirmed): a warning
    _money(suite, rows, columns, warnings=["pay_amount", "prepay_sum"])
    _years(suite, rows, columns, warnings=["pay_date"])


def _plans(con, suite, rows, columns, previous) -> None:
    _money(suite, rows, columns, errors=["amount"], warnings=["price", "count"])
    _bins(suite, rows, columns, warnings=["subject_biin"])
    _fin_year(suite, rows, columns, "pln_point_year")
    _code_in_ref(con, suite, rows, columns, "ref_trade_methods_id", "ref_trade_methods", "id", "warning")


def _trd_app(con, suite, rows, columns, previous) -> None:
    _bins(suite, rows, columns, warnings=["supplier_bin_iin"])
    _refers(con, suite, rows, columns, "buy_id", "trd_buy", "warning", "references_announcement")
    _years(suite, rows, columns, warnings=["date_apply"])


def _app_lots(con, suite, rows, columns, previous) -> None:
    _money(suite, rows, columns, warnings=["price", "discount_price"])
    _refers(con, suite, rows, columns, "lot_id", "lots", "warning")


def _offers(con, suite, rows, columns, previous) -> None:
    _money(suite, rows, columns, warnings=["price", "count", "total_sum"])


def _acts(con, suite, rows, columns, previous) -> None:
    _money(suite, rows, columns, warnings=["sum_transfer", "sum_fine"])
    _refers(con, suite, rows, columns, "contract_id", "contract", "warning")


def _subject(con, suite, rows, columns, previous) -> None:
    _bins(suite, rows, columns, errors=["bin", "iin"])


def _rnu(con, suite, rows, columns, previous) -> None:
    _bins(suite, rows, columns, warnings=["supplier_biin"])
    _ordered(suite, rows, columns, "start_date", "end_date", "warning")


def _ref(con, suite, rows, columns, previous) -> None:
    if "code" in columns:
        c.not_null(suite, rows, "code", "warning")


_SPECIFIC = {
    "trd_buy": _trd_buy,
    "lots": _lots,
    "contract": _contract,
    "contract_units": _contract_units,
    "treasury_pay": _treasury_pay,
    "plans": _plans,
    "trd_app": _trd_app,
    "app_lots": _app_lots,
    "offers": _offers,
    "acts": _acts,
    "subject": _subject,
    "rnu": _rnu,
    **{ref: _ref for ref in REF_TABLES},
}
