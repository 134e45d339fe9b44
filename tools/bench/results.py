"""What a benchmark run measured (per stage and per scale), and the row counts it reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

# --- results ---------------------------------------------------------------------------------------


@dataclass
class StageResult:
    name: str
    wall_s: float
    cpu_s: float
    peak_mib: float
    rows: int
    baseline_s: float | None = None
    baseline_peak_mib: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.wall_s if self.wall_s else 0.0

    @property
    def ratio(self) -> float | None:
        return self.wall_s / self.baseline_s if self.baseline_s else None


@dataclass
class ScaleRun:
    scale: float
    seed: int
    rate_limit: float
    stages: list[StageResult] = field(default_factory=list)
    world_rows: dict[str, int] = field(default_factory=dict)
    api: dict[str, dict[str, Any]] = field(default_factory=dict)  # stage -> api usage
    api_floor: dict[str, dict[str, Any]] = field(default_factory=dict)  # stage -> plain HTTP crawl
    failed: str = ""
    raw_from_world: bool = False
    client_rate_limit: float = 0.0  # GOSZAKUP_API_RATE_LIMIT of the pipeline's loads (0: none)

    def stage(self, name: str) -> StageResult | None:
        return next((s for s in self.stages if s.name == name), None)


# --- counting rows ---------------------------------------------------------------------------------


def _table_counts(
    db: Path, schemas: Sequence[str] | None = None, *, exclude: Sequence[str] = ()
) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
        out = {}
        for schema, table in rows:
            if (
                (schemas is not None and schema not in schemas)
                or schema in exclude
                or table.startswith("_dlt")
            ):
                continue
            out[f"{schema}.{table}"] = con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
        return out
    finally:
        con.close()


def world_counts(world: Path) -> dict[str, int]:
    """Rows of the API's tables in a world file (not its ground truth and metadata)."""
    counts = _table_counts(world, ["main"])
    return {
        k.split(".", 1)[1]: v for k, v in counts.items() if not k.endswith(("ground_truth", "world_meta"))
    }


def last_load_rows(db: Path) -> int:
    """Rows written by the warehouse's latest dlt load (an incremental run's merged rows)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        load_id = con.execute("SELECT max(load_id) FROM raw._dlt_loads").fetchone()[0]
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_columns() WHERE schema_name = 'raw' AND column_name = '_dlt_load_id' "
                "AND database_name = current_database()"
            ).fetchall()
        ]
        return sum(
            con.execute(f'SELECT count(*) FROM raw."{t}" WHERE _dlt_load_id = ?', [load_id]).fetchone()[0]
            for t in tables
            if not t.startswith("_dlt")
        )
    finally:
        con.close()
