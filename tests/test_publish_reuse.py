"""Publish only what changed: unchanged tables' files are reused, and the bytes equal a full build.

The warehouse and the publish calls are those of tests/test_publish.py (a small synthetic warehouse
and a fake OCDS JSON writer). The expected bytes come from an independent full build of the same
warehouse into an empty root (no cache), not from the code under test's own bookkeeping.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from publish.reuse import CACHE_DIR
from publish.verify import verify_version
from tests.test_publish import CLOCK2, fake_ocds_json, modify, publish, settings, sums, warehouse  # noqa: F401

DATA_SUFFIXES = (".parquet", ".csv.gz")


def _data(version: Path) -> dict[str, str]:
    return {p: d for p, d in sums(version).items() if p.endswith(DATA_SUFFIXES) or p.startswith("ocds-json/")}


def test_unchanged_tables_are_reused_and_bytes_equal_a_full_build(tmp_path, warehouse, settings):  # noqa: F811
    root = tmp_path / "root"
    v1 = publish(warehouse, root, settings)
    # two tables of the same content (here both empty) keep their own files
    modify(
        warehouse,
        "UPDATE ocds.tenders SET value_amount = 1 WHERE id = 'T0001'",
        "CREATE TABLE quarantine.empty_a (id VARCHAR)",
        "CREATE TABLE quarantine.empty_b (id VARCHAR)",
    )
    v2 = publish(warehouse, root, settings, clock=CLOCK2)
    full = publish(warehouse, tmp_path / "full", settings, clock=CLOCK2)
    assert v1.published and v2.published and full.published
    assert v2.version == full.version != v1.version
    assert _data(v2.path) == _data(full.path)
    assert verify_version(v1.path) == [] and verify_version(v2.path) == []

    tables = [p for p in _data(v2.path) if p.endswith(DATA_SUFFIXES)]
    assert len(tables) == 16
    assert {"quarantine/empty_a.parquet", "quarantine/empty_b.parquet"} <= set(tables)
    for rel in tables:
        if rel.startswith("quarantine/empty_"):  # new in v2
            continue
        shared = (v1.path / rel).stat().st_ino == (v2.path / rel).stat().st_ino
        assert shared == (not rel.startswith("ocds/tenders.")), rel

    # a damaged cache entry is not trusted: the table is written again, the bytes stay right
    cached = next(p for p in (root / CACHE_DIR).rglob("parquet") if (p.parent / "entry.json").is_file())
    cached.unlink()
    cached.write_bytes(b"not a parquet file")
    modify(warehouse, "UPDATE ocds.tenders SET value_amount = 2 WHERE id = 'T0001'")
    day3 = lambda: CLOCK2() + dt.timedelta(days=1)  # noqa: E731
    v3 = publish(warehouse, root, settings, clock=day3)
    full3 = publish(warehouse, tmp_path / "full3", settings, clock=day3)
    assert _data(v3.path) == _data(full3.path)
    assert verify_version(v3.path) == [] and verify_version(v2.path) == []
