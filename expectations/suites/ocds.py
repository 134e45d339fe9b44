"""Suites of the OCDS layer (schema ``ocds``, built by dbt from the raw layer).

The OCDS tables are flattened (Spoonbill-like: releases, parties, tenders, lots, bids, awards,
award_suppliers, contracts, contract_items, amendments, transactions, planning). Column names are
looked up tolerantly (``value_amount`` / ``valueAmount`` / ``value.amount``); a check whose column
cannot be found is reported as a skipped warning, never silently dropped.

Reconciliation (error): every raw row of an announcement, lot or contract is either in the OCDS
table or in the dbt quarantine table (``quarantine.<entity>``, one row per raw row and failed
rule): ``raw rows = OCDS rows + distinct quarantined raw rows``.
"""

from __future__ import annotations

import re

import duckdb

from expectations.spec import Batch, Suite, q
from expectations.suites import common as c
from expectations.suites.raw import single_source_band
from pipelines.ocds_schema import codelist

SCHEMA = "ocds"
RAW = "raw"
QUARANTINE = "quarantine"
EXPECTED_TABLES: tuple[str, ...] = (
    "releases",
    "parties",
    "planning",
    "tenders",
    "lots",
    "bids",
    "awards",
    "award_suppliers",
    "contracts",
    "contract_items",
    "amendments",
    "transactions",
)
#: Tables whose absence blocks publishing.
CORE_TABLES = frozenset({"releases", "parties", "tenders", "lots", "awards", "contracts"})

#: closed OCDS codelists, read from the vendored schema
PROCUREMENT_METHODS = codelist("method")
TENDER_STATUS = codelist("tenderStatus")
AWARD_STATUS = codelist("awardStatus")
CONTRACT_STATUS = codelist("contractStatus")
INITIATION_TYPES = codelist("initiationType")
DEFAULT_CURRENCIES = ("KZT",)

#: OCDS table -> (raw entity, SQL condition selecting the raw rows it is built from)
RECONCILIATION: dict[str, tuple[str, str]] = {
    "tenders": ("trd_buy", "true"),
    "lots": ("lots", "true"),
    # amendments (parent_id set and not the row itself) become OCDS amendments, not contracts
    "contracts": ("contract", "coalesce(parent_id, 0) IN (0, id)"),
}


def table_names(con: duckdb.DuckDBPyConnection | None = None) -> list[str]:
    names = list(EXPECTED_TABLES)
    if con is not None:
        names += [t for t in c.tables_of(con, SCHEMA) if t not in names]
    return names


def _currencies(con) -> list[str]:
    codes = set(DEFAULT_CURRENCIES)
    if "code" in c.columns_of(con, RAW, "ref_currency"):
        codes |= {
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT code FROM {RAW}.ref_currency WHERE code IS NOT NULL"
            ).fetchall()
        }
    return sorted(codes)


def build(
    con: duckdb.DuckDBPyConnection,
    table: str,
    previous: dict | None = None,
    *,
    ocid_prefix: str | None = None,
) -> Suite:
    suite = Suite(name=f"{SCHEMA}.{table}", layer="ocds", table=table)
    columns = c.columns_of(con, SCHEMA, table)
    if not columns:
        suite.skip(
            f"{suite.name}.exists",
            None,
            "error" if table in CORE_TABLES else "warning",
            f"table {SCHEMA}.{table} does not exist (has dbt built the OCDS models?)",
        )
        return suite
    suite.metrics[f"{suite.name}.row_count"] = c.scalar(con, f"SELECT count(*) FROM {SCHEMA}.{q(table)}")
    ocid = c.pick(columns, "ocid")
    own_id = c.pick(columns, *_ID_CANDIDATES.get(table, ("id",)))
    index = [col for col in (ocid, own_id) if col]
    rows = Batch("rows", index_columns=index, source=f"{SCHEMA}.{q(table)}")
    suite.batches.append(rows)

    def want(check: str, severity: c.Severity, *candidates: str) -> str | None:
        col = c.pick(columns, *candidates)
        if col is None:
            suite.skip(
                f"{suite.name}.{check}",
                None,
                "warning",
                f"none of the columns {list(candidates)} found in {SCHEMA}.{table}",
            )
        return col

    # --- every table: ocid set and well-formed -------------------------------------------
    if ocid:
        c.not_null(suite, rows, ocid)
        if not ocid_prefix:
            raise ValueError(f"ocds.{table}: the OCDS suites need the dataset's ocid_prefix")
        prefix = ocid_prefix
        c.matches(
            suite,
            rows,
            ocid,
            "^" + re.escape(prefix) + "-.+",
            "prefixed",
            "error",
            f"ocid starts with the dataset's prefix '{prefix}-' (OCDS: a registered 'ocds-' "
            "prefix of 6 characters, then the local id).",
        )
    else:
        suite.skip(f"{suite.name}.ocid_not_null", None, "warning", f"no ocid column in {SCHEMA}.{table}")

    # --- one row per key -----------------------------------------------------------------
    if table in ("releases", "tenders"):
        if ocid:
            c.unique(suite, rows, ocid)
    elif own_id:
        c.not_null(suite, rows, own_id)
        if ocid:
            key = f"CAST({q(ocid)} AS VARCHAR) || '/' || CAST({q(own_id)} AS VARCHAR)"
            rows.need(f"{own_id}__key", key)
            c.add(
                rows,
                suite,
                f"{suite.name}.{own_id}_unique_within_ocid",
                own_id,
                "error",
                f"{own_id} identifies one row within its release (ocid, {own_id}) .",
                c.gxe.ExpectColumnValuesToBeUnique,
                column=f"{own_id}__key",
            )
        else:
            c.unique(suite, rows, own_id)

    # --- amounts, currencies, dates anywhere -----------------------------------------------
    amount_severity: c.Severity = "warning" if table == "transactions" else "error"
    for col in columns:
        norm = col.replace(".", "_").lower()
        if re.search(r"amount(_net|_gross)?$", norm):
            c.non_negative(suite, rows, col, amount_severity)
        elif norm.endswith("currency"):
            c.in_set(
                suite,
                rows,
                col,
                _currencies(con),
                "known",
                "error",
                f"{col} is an ISO 4217 code known to the dataset (KZT or raw.ref_currency).",
            )
    for start in [col for col in columns if col.lower().replace(".", "_").endswith("start_date")]:
        end = start[: -len("start_date")] + "end_date"
        end = c.pick(columns, end)
        if end:
            c.true_where(
                suite,
                rows,
                f"{end}__ordered",
                f"CASE WHEN {q(start)} IS NULL OR {q(end)} IS NULL THEN NULL ELSE {q(end)} >= {q(start)} END",
                f"{end}_not_before_start",
                end,
                "error" if table == "tenders" else "warning",
                f"{end} is not before {start}.",
            )

    specific = _SPECIFIC.get(table)
    if specific is not None:
        specific(con, suite, rows, columns, want, previous)
    if table in RECONCILIATION:
        _reconcile(con, suite, rows, table)
    return suite


_ID_CANDIDATES = {
    "parties": ("id", "party_id"),
    "lots": ("id", "lot_id"),
    "bids": ("id", "bid_id"),
    "awards": ("id", "award_id"),
    "contracts": ("id", "contract_id"),
    "contract_items": ("id", "item_id"),
    "amendments": ("id", "amendment_id"),
    "transactions": ("id", "transaction_id"),
    "award_suppliers": ("award_id", "awardID"),
}


def _codelist(suite, rows, want, rule: str, values, severity, *candidates) -> None:
    col = want(rule, severity, *candidates)
    if col:
        c.in_set(
            suite,
            rows,
            col,
            values,
            "in_codelist",
            severity,
            f"{col} is in the OCDS codelist {list(values)}.",
        )


def _releases(con, suite, rows, columns, want, previous) -> None:
    for name, cands in (("id", ("id", "release_id")), ("date", ("date", "release_date"))):
        col = want(f"{name}_not_null", "error", *cands)
        if col:
            c.not_null(suite, rows, col)
    _codelist(
        suite,
        rows,
        want,
        "initiation_type_in_codelist",
        INITIATION_TYPES,
        "error",
        "initiationType",
        "initiation_type",
    )
    tag = c.pick(columns, "tag")
    if tag:
        c.not_null(suite, rows, tag, "warning")


def _tenders(con, suite, rows, columns, want, previous) -> None:
    _codelist(
        suite,
        rows,
        want,
        "procurement_method_in_codelist",
        PROCUREMENT_METHODS,
        "error",
        "procurementMethod",
        "procurement_method",
        "tender_procurement_method",
    )
    _codelist(suite, rows, want, "status_in_codelist", TENDER_STATUS, "error", "status", "tender_status")
    method = c.pick(columns, "procurementMethod", "procurement_method", "tender_procurement_method")
    if method:
        expr = f"CASE WHEN {q(method)} IS NULL THEN NULL ELSE {q(method)} = 'direct' END"
        metric = f"{suite.name}.single_source_share"
        suite.metrics[metric] = c.scalar(con, f"SELECT avg(CAST({expr} AS DOUBLE)) FROM {SCHEMA}.tenders")
        single_source_band(
            suite, rows, "single_source", expr, metric, previous, "Share of direct (single-source) tenders"
        )


def _awards(con, suite, rows, columns, want, previous) -> None:
    _codelist(suite, rows, want, "status_in_codelist", AWARD_STATUS, "error", "status", "award_status")


def _contracts(con, suite, rows, columns, want, previous) -> None:
    award = want("award_id_not_null", "error", "awardID", "award_id")
    if award:
        c.not_null(suite, rows, award)
    _codelist(suite, rows, want, "status_in_codelist", CONTRACT_STATUS, "error", "status", "contract_status")
    signed = c.pick(columns, "dateSigned", "date_signed", "signed_at")
    if signed:
        rows.need(f"{signed}__year", f"year(TRY_CAST({q(signed)} AS TIMESTAMP))")
        low, high = c.FIRST_PLAUSIBLE_YEAR, c.last_plausible_year()
        c.add(
            rows,
            suite,
            f"{suite.name}.{signed}_plausible_year",
            signed,
            "error",
            f"The year of {signed} is between {low} and {high}.",
            c.gxe.ExpectColumnValuesToBeBetween,
            column=f"{signed}__year",
            min_value=low,
            max_value=high,
        )


def _parties(con, suite, rows, columns, want, previous) -> None:
    roles = c.pick(columns, "roles")
    if roles:
        c.not_null(suite, rows, roles, "warning")


def _reconcile(con, suite: Suite, rows: Batch, table: str) -> None:
    entity, condition = RECONCILIATION[table]
    name = f"{suite.name}.reconciles_with_raw"
    raw_cols = c.columns_of(con, RAW, entity)
    if not raw_cols:
        suite.skip(name, None, "error", f"{RAW}.{entity} does not exist: nothing to reconcile with")
        return
    quarantine_cols = c.columns_of(con, QUARANTINE, entity)
    if "raw_row_id" in quarantine_cols and "_dlt_id" in raw_cols:
        refused = f"_dlt_id IN (SELECT raw_row_id FROM {QUARANTINE}.{q(entity)})"
    elif "record_id" in quarantine_cols:
        refused = f"CAST(id AS VARCHAR) IN (SELECT record_id FROM {QUARANTINE}.{q(entity)})"
    else:
        refused = "false"
    raw_n, quarantined = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {refused}) FROM {RAW}.{q(entity)} WHERE {condition}"
    ).fetchone()
    expected = raw_n - quarantined
    suite.metrics[f"{suite.name}.quarantined_raw_rows"] = quarantined
    c.row_count_equal(
        suite,
        rows,
        expected,
        "reconciles_with_raw",
        "error",
        f"Rows of {SCHEMA}.{table} = rows of {RAW}.{entity} ({raw_n}"
        f"{'' if condition == 'true' else ', where ' + condition}) minus those in "
        f"{QUARANTINE}.{entity} ({quarantined}) = {expected}: nothing dropped silently.",
    )


_SPECIFIC = {
    "releases": _releases,
    "tenders": _tenders,
    "awards": _awards,
    "contracts": _contracts,
    "parties": _parties,
}
