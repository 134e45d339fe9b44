"""What a suite is made of, independent of how it is run.

A :class:`Suite` validates one warehouse table (one Dagster asset). It holds one or more
:class:`Batch` es: a dataframe (read from DuckDB with a SELECT the suite assembles, or built in
memory from catalogue facts) and the checks that run on it. A :class:`Check` is one Great
Expectations expectation with a stable name and a severity.

Why the SELECT is assembled here: checks that GX has no expectation for (the BIN/IIN check digit,
"references an existing announcement", "date parses") become a derived column computed by DuckDB
(vectorised, and only the needed columns travel to pandas), and a plain GX expectation asserts on
it. The GX SQL route is not used: it fails on DuckDB (GX issues 10738, 11579).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import pandas as pd

from pipelines.sql import quote_identifier as q

Severity = Literal["error", "warning"]
Layer = Literal["raw", "ocds", "risk"]
LAYERS: tuple[str, ...] = ("raw", "ocds", "risk")


@dataclass
class CheckResult:
    """The outcome of one named check (what Dagster, the report and the tests read)."""

    name: str
    layer: str
    table: str
    column: str | None
    severity: Severity
    success: bool
    unexpected_count: int
    sample: list
    description: str
    #: the value GX observed for aggregate checks (row count, mean ...), None for row checks
    observed: Any = None
    #: True when the check could not run (table or column absent); then success is False
    skipped: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Check:
    """One named expectation. ``expectation`` is an unbound GX Expectation instance."""

    name: str
    column: str | None
    severity: Severity
    description: str
    expectation: Any


@dataclass
class Batch:
    """A dataframe and the checks that run on it.

    Exactly one of ``source`` (an SQL FROM target, with ``select`` the columns to read) or
    ``frame`` (an in-memory dataframe) is set.
    """

    name: str
    index_columns: list[str]
    source: str | None = None
    select: dict[str, str] = field(default_factory=dict)  # alias -> SQL expression
    frame: pd.DataFrame | None = None
    checks: list[Check] = field(default_factory=list)

    def need(self, alias: str, expr: str | None = None) -> str:
        """Read ``expr`` (default: the column of that name) as ``alias``; returns the alias."""
        self.select.setdefault(alias, expr if expr is not None else q(alias))
        return alias

    def sql(self) -> str:
        if self.source is None:
            raise ValueError(f"batch {self.name} has no SQL source")
        for col in self.index_columns:
            self.need(col)
        cols = ", ".join(f"{expr} AS {q(alias)}" for alias, expr in self.select.items())
        return f"SELECT {cols or '*'} FROM {self.source}"


@dataclass
class Suite:
    """Every check of one table. ``name`` (``layer.table``) is the Dagster asset check name."""

    name: str
    layer: str
    table: str
    batches: list[Batch] = field(default_factory=list)
    #: checks decided without GX (table or column absent): reported as they are
    skipped: list[CheckResult] = field(default_factory=list)
    #: numbers worth keeping between builds (row counts, shares): they feed ``previous``
    metrics: dict[str, float | int | None] = field(default_factory=dict)

    def skip(self, check: str, column: str | None, severity: Severity, why: str) -> None:
        self.skipped.append(
            CheckResult(
                name=check,
                layer=self.layer,
                table=self.table,
                column=column,
                severity=severity,
                success=False,
                unexpected_count=0,
                sample=[],
                description=f"skipped: {why}",
                skipped=True,
            )
        )

    def check_names(self) -> list[str]:
        return [c.name for b in self.batches for c in b.checks] + [r.name for r in self.skipped]
