"""The ground truth of the planted patterns: writing the table and reading it back."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa


def _write_ground_truth_table(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    rows = sorted(
        rows, key=lambda r: (r["pattern"], r["object_type"], r["object_id"], r["supplier_pid"] or 0)
    )
    table = pa.table(
        {
            "pattern": [r["pattern"] for r in rows],
            "grain": [r["grain"] for r in rows],
            "object_type": [r["object_type"] for r in rows],
            "object_id": pa.array([r["object_id"] for r in rows], pa.int64()),
            "buyer_pid": pa.array([r["buyer_pid"] for r in rows], pa.int64()),
            "supplier_pid": pa.array([r["supplier_pid"] for r in rows], pa.int64()),
            "details": [json.dumps(r["details"], ensure_ascii=False, sort_keys=True) for r in rows],
        }
    )
    con.register("_gt_rows", table)
    try:
        con.execute(
            "INSERT INTO ground_truth SELECT pattern, grain, object_type, object_id, buyer_pid, "
            "supplier_pid, details::JSON FROM _gt_rows"
        )
    finally:
        con.unregister("_gt_rows")


def ground_truth(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The planted cases as dicts (``details`` parsed), sorted by pattern and object."""
    cur = con.execute(
        "SELECT pattern, grain, object_type, object_id, buyer_pid, supplier_pid, details::VARCHAR AS details "
        "FROM ground_truth ORDER BY pattern, object_type, object_id, supplier_pid"
    )
    cols = [d[0] for d in cur.description]
    out = []
    for row in cur.fetchall():
        rec = dict(zip(cols, row, strict=True))
        rec["details"] = json.loads(rec["details"]) if rec["details"] else {}
        out.append(rec)
    return out


def write_ground_truth(con: duckdb.DuckDBPyConnection, out: Path) -> Path:
    """Write the ground truth as deterministic JSON (sorted keys and rows) to ``out``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(ground_truth(con), ensure_ascii=False, sort_keys=True, indent=1)
    out.write_text(text + "\n", encoding="utf-8")
    return out
