"""``python -m publish recompute-flags <version>``: rebuild a version's risk tables from the version's
own files and compare them with the published ones.

Why: a monitor acts on a flag only when anyone can check it. A version publishes every input the
risk models read (the OCDS tables and ``risk.process_context``, ``risk.organisation_register``,
``risk.debarment_register``) and the parameters they ran with (``risk.flag_catalogue.parameters``).
This loads those Parquet files into a temporary DuckDB, runs the same dbt risk models on them
(``pipelines.red_flags.run_risk_models``), writes each risk table the way ``publish build`` does
(``snapshot.write_table``: same order, same Parquet settings) and compares the bytes with the
published files, then the rows, so a difference names the table and how many rows differ.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from pipelines.red_flags import INPUT_SCHEMA, OCDS_INPUTS, RISK_INPUT_MODELS, run_risk_models
from publish import versions
from publish.datapackage import Column
from publish.snapshot import TableInfo, write_table


@dataclass
class TableComparison:
    table: str
    rows: int
    identical: bool
    only_published: int = 0
    only_recomputed: int = 0


@dataclass
class RecomputeResult:
    version_dir: Path
    tables: list[TableComparison] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return bool(self.tables) and all(t.identical for t in self.tables)

    def lines(self) -> list[str]:
        out = []
        for t in self.tables:
            if t.identical:
                out.append(f"identical  {t.table} ({t.rows} rows)")
            else:
                out.append(
                    f"DIFFERENT  {t.table}: {t.only_published} published rows not recomputed, "
                    f"{t.only_recomputed} recomputed rows not published"
                )
        return out


def _sql_path(p: Path) -> str:
    return str(p).replace("'", "''")


def published_parameters(con: duckdb.DuckDBPyConnection, parquet: Path) -> dict[str, Any]:
    """The dbt vars the version's risk models ran with: the union of risk.flag_catalogue.parameters."""
    merged: dict[str, Any] = {}
    for (params,) in con.execute(
        f"SELECT parameters::VARCHAR FROM read_parquet('{_sql_path(parquet)}') ORDER BY flag_code"
    ).fetchall():
        for name, value in json.loads(params or "{}").items():
            if name in merged and merged[name] != value:
                raise RuntimeError(f"flag_catalogue gives two values for {name}: {merged[name]!r}, {value!r}")
            merged[name] = value
    return merged


def _tables(version_dir: Path) -> dict[str, dict[str, Any]]:
    return json.loads((version_dir / "manifest.json").read_text(encoding="utf-8"))["tables"]


def _inputs() -> list[str]:
    return [f"ocds.{t}" for t in OCDS_INPUTS] + [f"risk.{t}" for t in RISK_INPUT_MODELS]


def rebuild(version_dir: Path, work: Path) -> Path:
    """A DuckDB in ``work`` holding the risk tables rebuilt from the version's own input files."""
    tables = _tables(version_dir)
    missing = [t for t in [*_inputs(), "risk.flag_catalogue"] if t not in tables]
    if missing:
        raise RuntimeError(f"{version_dir} does not publish {missing}: its flags cannot be recomputed")
    db = work / "recompute.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"CREATE SCHEMA {INPUT_SCHEMA}")
        for name in _inputs():
            parquet = version_dir / tables[name]["files"][0]
            con.execute(
                f'CREATE TABLE {INPUT_SCHEMA}."{name.split(".", 1)[1]}" AS '
                f"SELECT * FROM read_parquet('{_sql_path(parquet)}')"
            )
        variables = published_parameters(con, version_dir / tables["risk.flag_catalogue"]["files"][0])
    run_risk_models(db, work, variables)
    return db


def compare(db: Path, version_dir: Path, work: Path) -> RecomputeResult:
    """Write each rebuilt risk table as ``publish build`` does and compare with the version's file:
    bytes first, then rows (how many on each side only)."""
    tables = _tables(version_dir)
    outputs = sorted(t for t in tables if t.startswith("risk.") and t not in _inputs())
    result = RecomputeResult(version_dir)
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    with duckdb.connect(str(db)) as con:
        con.execute("SET TimeZone = 'UTC'")
        for name in outputs:
            meta = tables[name]
            schema, table = name.split(".", 1)
            columns = [Column(c["name"], c["duckdb_type"], c["type"]) for c in meta["columns"]]
            info = write_table(con, TableInfo(schema, table, columns, meta["primary_key"], ""), out)
            published = version_dir / meta["files"][0]
            same = info["files"]["parquet"]["sha256"] == versions.sha256_file(published)
            cmp = TableComparison(name, info["rows"], same)
            if not same:
                mine = out / info["files"]["parquet"]["path"]
                rows = "SELECT to_json(t)::VARCHAR AS r FROM read_parquet('{}') t"
                a, b = rows.format(_sql_path(published)), rows.format(_sql_path(mine))
                cmp.only_published = con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchone()[0]
                cmp.only_recomputed = con.execute(f"SELECT count(*) FROM ({b} EXCEPT ALL {a})").fetchone()[0]
            result.tables.append(cmp)
    return result


def recompute_flags(version_dir: Path, work: Path | None = None) -> RecomputeResult:
    """Rebuild the risk tables of ``version_dir`` from its own files; compare with the published ones."""
    with tempfile.TemporaryDirectory(prefix="recompute-", dir=work) as tmp:
        return compare(rebuild(version_dir, Path(tmp)), version_dir, Path(tmp))
