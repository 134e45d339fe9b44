"""Suites of the risk marts (schema ``risk``, built by dbt after the OCDS layer).

The marts are discovered, not listed: every table in schema ``risk`` gets the generic rules
(a flag's status is flagged / not_flagged / not_computable; every score lies in [0, 1]; an
``ocid`` is set). When the schema does not exist yet the layer reports one skipped warning.
"""

from __future__ import annotations

import duckdb

from expectations.spec import Batch, Suite, q
from expectations.suites import common as c

SCHEMA = "risk"
#: Pseudo-table reported when the schema is absent or empty.
SCHEMA_SUITE = "schema"
FLAG_STATUS = ("flagged", "not_flagged", "not_computable")


def table_names(con: duckdb.DuckDBPyConnection | None = None) -> list[str]:
    if con is None:
        return []
    return c.tables_of(con, SCHEMA) or [SCHEMA_SUITE]


def build(con: duckdb.DuckDBPyConnection, table: str, previous: dict | None = None) -> Suite:
    suite = Suite(name=f"{SCHEMA}.{table}", layer="risk", table=table)
    columns = c.columns_of(con, SCHEMA, table)
    if not columns:
        what = (
            f"schema {SCHEMA} has no tables yet"
            if table == SCHEMA_SUITE
            else f"{SCHEMA}.{table} does not exist"
        )
        suite.skip(f"{suite.name}.present", None, "warning", what)
        return suite
    suite.metrics[f"{suite.name}.row_count"] = c.scalar(con, f"SELECT count(*) FROM {SCHEMA}.{q(table)}")
    # the key columns of the marts (models/risk) name the failing rows in reports
    keys = ("ocid", "party_id", "role", "buyer_id", "supplier_id", "flag_code", "indicator", "code", "flag")
    index = [col for col in keys if col in columns]
    rows = Batch("rows", index_columns=index, source=f"{SCHEMA}.{q(table)}")
    suite.batches.append(rows)
    for col in columns:
        low = col.lower()
        if low in ("status", "flag_status"):
            c.in_set(
                suite,
                rows,
                col,
                FLAG_STATUS,
                "in_flag_states",
                "error",
                f"{col} is one of {list(FLAG_STATUS)} (a flag has three states).",
            )
        elif low == "score" or low.endswith("_score") or low == "cri":
            c.between(
                suite,
                rows,
                col,
                0,
                1,
                "in_unit_interval",
                "error",
                f"{col} lies in [0, 1] (scaled indicator or composite score).",
            )
        elif low == "ocid":
            c.not_null(suite, rows, col)
    return suite
