"""One module per layer; each builds the :class:`~expectations.spec.Suite` of a table."""

from __future__ import annotations

import duckdb

from expectations.spec import Suite
from expectations.suites import ocds, raw, risk


def table_names(layer: str, con: duckdb.DuckDBPyConnection | None = None) -> list[str]:
    """Tables of a layer that have a suite (risk: discovered in the warehouse)."""
    if layer == "raw":
        return raw.table_names()
    if layer == "ocds":
        return ocds.table_names(con)
    if layer == "risk":
        return risk.table_names(con)
    raise ValueError(f"unknown layer {layer!r}")


def build_suite(
    con: duckdb.DuckDBPyConnection,
    layer: str,
    table: str,
    previous: dict | None = None,
    *,
    ocid_prefix: str | None = None,
) -> Suite:
    """The suite of one table. ``ocid_prefix`` is the dataset's prefix the OCDS layer is checked
    against; passed by the caller that holds the run's settings (required for the OCDS layer)."""
    if layer == "ocds":
        return ocds.build(con, table, previous, ocid_prefix=ocid_prefix)
    module = {"raw": raw, "risk": risk}.get(layer)
    if module is None:
        raise ValueError(f"unknown layer {layer!r}")
    return module.build(con, table, previous)


__all__ = ["build_suite", "table_names"]
