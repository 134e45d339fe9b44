"""A trade method the seed ``trade_method_ocds`` does not map is never a silent NULL method (it would
vanish from every competitive flag and skew the single-source share): the announcement is
quarantined (rule ``unknown_trade_method``, naming the field and the value) and the error-level
``relationships`` test of ``stg_goszakup__trd_buy.trade_method_id`` fails, so the build stops.

Real components: the raw layer of the scale-1 sandbox world in a DuckDB file, real dbt runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from tests.test_dbt_build import raw_from_world, run_dbt


def test_unknown_trade_method_is_quarantined_and_fails_the_build(world_path: Path, tmp_path: Path) -> None:
    db = tmp_path / "goszakup.duckdb"
    raw_from_world(world_path, db)
    with duckdb.connect(str(db)) as con:
        announcement = con.execute("SELECT min(id) FROM raw.trd_buy").fetchone()[0]
        con.execute("UPDATE raw.trd_buy SET ref_trade_methods_id = 999 WHERE id = ?", [announcement])
    run = run_dbt(
        db,
        tmp_path,
        "build",
        "--select",
        "+quarantine_trd_buy",
        "--exclude-resource-type",
        "test",
        "unit_test",
    )
    assert run.returncode == 0, run.stdout[-3000:]
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT record_id, field, reason FROM quarantine.trd_buy WHERE rule = 'unknown_trade_method'"
        ).fetchall()
    assert rows == [(str(announcement), "ref_trade_methods_id", rows[0][2])]
    assert "999" in rows[0][2] and "trade_method_ocds" in rows[0][2]
    test = run_dbt(db, tmp_path, "test", "--select", "stg_goszakup__trd_buy")
    assert test.returncode != 0
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    failed = {r["unique_id"] for r in results if r["status"] in ("fail", "error")}
    assert any("relationships_stg_goszakup__trd_buy_trade_method_id" in u for u in failed), failed
