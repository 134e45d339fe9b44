"""The daily update's incremental dbt build equals a full rebuild, table for table.

A real sandbox over HTTP, real dlt ingestions and real dbt runs: a first load and build, then
sandbox epochs (updates, deletions with their children, new announcements) plus a planted party
rename, each followed by an incremental load and an incremental `dbt build`. A copy of the final
warehouse is rebuilt with `--full-refresh`; every table of the intermediate, OCDS and quarantine
schemas must hold the same rows (EXCEPT ALL both ways) in both. The incremental builds must
also have been incremental: they redo a small share of the processes, and deleted ones vanish.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from pipelines.goszakup_api import ENTITIES
from pipelines.ingest import run_ingestion
from tests.conftest import settings_for
from tests.helpers import admin, run_dbt

#: Models only (no data or unit tests: test_dbt_build runs those), up to the OCDS tables and the
#: build state (the risk marts are tables rebuilt whole from these).
BUILD = (
    "build",
    "--exclude-resource-type",
    "test",
    "unit_test",
    "--select",
    "+path:models/ocds",
    "+int_goszakup__build_state",
)
COMPARED_SCHEMAS = ("intermediate", "ocds", "quarantine")
#: Bookkeeping of the incremental build itself (differs between an update and a rebuild by design).
STATE_TABLES = {
    "int_goszakup__changed_processes",
    "int_goszakup__changed_releases",
    "int_goszakup__build_state",
}


def _ingest(world: Path, data_dir: Path) -> None:
    from sandbox.server import run_sandbox

    with run_sandbox(world) as server:
        run_ingestion(settings_for(data_dir), base_url=server.url, token=server.token)


def _advance(world: Path, epochs: int) -> dict:
    from sandbox.server import run_sandbox

    with run_sandbox(world) as server:
        return admin(server, "POST", "/_sandbox/advance", params={"epochs": epochs})


def _rename_party(world: Path) -> tuple[str, str]:
    """Rename the subject whose BIN buys the most, as the API would show it (cursor moved on)."""
    cursor = ENTITIES["subject"].cursor
    with duckdb.connect(str(world)) as con:
        bin_, pid = con.execute(
            "select s.bin, s.pid from subject s join trd_buy b on b.customer_bin = s.bin "
            "group by all order by count(*) desc, s.pid limit 1"
        ).fetchone()
        new_name = "Переименованный заказчик (test)"
        con.execute(
            f"update subject set name_ru = ?, {cursor} = '2099-01-01 00:00:00' where pid = ?", [new_name, pid]
        )
    return bin_, new_name


def _build(db: Path, work: Path, *extra: str) -> None:
    result = run_dbt(db, work, *BUILD, *extra)
    assert result.returncode == 0, result.stdout[-6000:]


def _count(db: Path, sql: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def _differences(incremental: Path, full: Path) -> dict[str, tuple[int, int]]:
    """Rows only in the incremental build and only in the full one, per table that differs."""
    out: dict[str, tuple[int, int]] = {}
    with duckdb.connect() as con:
        con.execute(f"attach '{incremental}' as inc (read_only)")
        con.execute(f"attach '{full}' as rebuilt (read_only)")
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = 'rebuilt' and table_type = 'BASE TABLE' and table_schema in "
            f"({', '.join(repr(s) for s in COMPARED_SCHEMAS)}) order by 1, 2"
        ).fetchall()
        assert len(tables) > 30, tables
        for schema, table in tables:
            if table in STATE_TABLES:
                continue
            a, b = f'inc."{schema}"."{table}"', f'rebuilt."{schema}"."{table}"'
            only_inc = con.execute(f"select count(*) from (from {a} except all from {b})").fetchone()[0]
            only_full = con.execute(f"select count(*) from (from {b} except all from {a})").fetchone()[0]
            if only_inc or only_full:
                out[f"{schema}.{table}"] = (only_inc, only_full)
    return out


def test_incremental_build_equals_full_rebuild(world_copy: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = data / "goszakup.duckdb"
    work = tmp_path / "dbt"
    _ingest(world_copy, data)
    _build(db, work)
    total = _count(db, "select count(*) from ocds.releases")

    # day 1: a sandbox epoch; day 2: another epoch and a renamed buyer
    deleted_ocids: set[str] = set()
    for day in (1, 2):
        changes = _advance(world_copy, 1)
        assert changes["trd_buy"]["deleted"] + changes["contract"]["deleted"] > 0, changes
        renamed = _rename_party(world_copy) if day == 2 else None
        with duckdb.connect(str(world_copy), read_only=True) as con:
            deleted_ids = [
                r[0]
                for r in con.execute(
                    "select object_id from journal where action = 'D' and service_name in ('trd-buy', 'TrdBuy', "
                    "'trd_buy', 'buy')"
                ).fetchall()
            ]
        with duckdb.connect(str(db), read_only=True) as con:
            deleted_ocids |= {
                r[0]
                for r in con.execute(
                    "select ocid from intermediate.int_goszakup__announcements where list_contains(?, announcement_id)",
                    [deleted_ids],
                ).fetchall()
            }
        _ingest(world_copy, data)
        _build(db, work)
        redone = _count(db, "select count(*) from intermediate.int_goszakup__changed_releases")
        assert 0 < redone < total / 4, f"day {day}: {redone} of {total} processes redone"

    assert deleted_ocids, "the epochs should have deleted announcements that were built"
    with duckdb.connect(str(db), read_only=True) as con:
        for schema_table in (
            "ocds.releases",
            "ocds.tenders",
            "ocds.parties",
            "intermediate.int_goszakup__lots",
        ):
            left = con.execute(
                f"select count(*) from {schema_table} where list_contains(?, ocid)", [sorted(deleted_ocids)]
            ).fetchone()[0]
            assert left == 0, f"{schema_table} still holds {left} rows of deleted processes"
        bin_, new_name = renamed
        names = {
            r[0]
            for r in con.execute(
                "select p.name from ocds.parties p join ocds.releases r using (ocid) "
                "where p.identifier_id = ? and 'buyer' in p.roles",
                [bin_],
            ).fetchall()
        }
        assert names == {new_name}, f"the renamed buyer {bin_} is still named {names - {new_name}}"

    full = tmp_path / "full" / "goszakup.duckdb"
    full.parent.mkdir()
    shutil.copyfile(db, full)
    _build(full, tmp_path / "dbt_full", "--full-refresh")
    assert _differences(db, full) == {}
