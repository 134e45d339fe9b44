"""A real `dbt build` of dbt_project/ on a scale-1 raw layer, with planted anomalies.

The raw layer is made from the sandbox world file (the same tables and columns the dlt connector
writes: list fields as JSON, _dlt_load_id/_dlt_id added), not through the HTTP ingestion, so that
the anomalies can be planted in a raw layer of known content (tests/test_main_job.py and the
Dagster tests build from a real ingestion). Planted anomalies prove the quarantine path: a duplicated
lot, a negative contract sum, an invalid BIN, a contract whose announcement is missing, a
deletion in the change journal.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from pipelines.goszakup_api import REF_TABLES, all_raw_tables
from tests.helpers import TEST_PREFIX, run_dbt

#: slow: a full dbt build of the scale-1 world
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
OCDS_TABLES = [
    "releases",
    "parties",
    "tenders",
    "lots",
    "tender_items",
    "bids",
    "awards",
    "award_suppliers",
    "contracts",
    "contract_items",
    "amendments",
    "transactions",
    "planning",
]


def raw_from_world(world: Path, target: Path) -> None:
    """Write schema ``raw`` into ``target`` from a world file, as the connector lays it out."""
    con = duckdb.connect(str(target))
    try:
        con.execute(f"attach '{world}' as world (read_only)")
        con.execute("create schema if not exists raw")
        world_tables = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where database_name = 'world'"
            ).fetchall()
        }
        for table in [*all_raw_tables(), *REF_TABLES, "journal"]:
            if table not in world_tables:
                continue
            cols = con.execute(
                "select column_name, data_type from duckdb_columns() where database_name = 'world' "
                "and table_name = ? order by column_index",
                [table],
            ).fetchall()
            select = ", ".join(f"to_json({c}) as {c}" if t.endswith("[]") else c for c, t in cols)
            con.execute(
                f"create table raw.{table} as select {select}, '0' as _dlt_load_id, "
                f"md5('{table}-' || row_number() over ()) as _dlt_id from world.main.{table}"
            )
    finally:
        con.close()


def plant_anomalies(db: Path) -> dict[str, str]:
    """Break a few raw records; returns {what: id} for the assertions."""
    con = duckdb.connect(str(db))
    try:
        lot = con.execute("select id from raw.lots order by id limit 1").fetchone()[0]
        con.execute(
            "insert into raw.lots select * replace ('dup-' || _dlt_id as _dlt_id) from raw.lots where id = ?",
            [lot],
        )
        negative = con.execute(
            "select id from raw.contract where coalesce(parent_id, 0) in (0, id) order by id limit 1 offset 5"
        ).fetchone()[0]
        con.execute("update raw.contract set contract_sum_wnds = -100 where id = ?", [negative])
        orphan = con.execute(
            "select id from raw.contract where coalesce(parent_id, 0) in (0, id) order by id limit 1 offset 9"
        ).fetchone()[0]
        con.execute("update raw.contract set trd_buy_id = -1 where id = ?", [orphan])
        bad_bin_buy = con.execute("select id from raw.trd_buy order by id limit 1 offset 3").fetchone()[0]
        con.execute(
            "update raw.trd_buy set customer_bin = substr(customer_bin, 1, 11) || "
            "cast((cast(substr(customer_bin, 12, 1) as int) + 1) % 10 as varchar) where id = ?",
            [bad_bin_buy],
        )
        deleted_buy = con.execute("select id from raw.trd_buy order by id limit 1 offset 7").fetchone()[0]
        if "journal" not in {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'raw'"
            ).fetchall()
        }:
            con.execute(
                "create table raw.journal (action varchar, object_id bigint, date_action varchar, service_name varchar, "
                "service_title varchar, url varchar, _dlt_load_id varchar, _dlt_id varchar)"
            )
        con.execute(
            "insert into raw.journal (action, object_id, date_action, service_name, _dlt_load_id, _dlt_id) "
            "values ('D', ?, '2030-01-01 00:00:00', 'trd-buy', '0', 'planted-delete')",
            [deleted_buy],
        )
        return {
            "lot": str(lot),
            "negative": str(negative),
            "orphan": str(orphan),
            "bad_bin": str(bad_bin_buy),
            "deleted": str(deleted_buy),
        }
    finally:
        con.close()


def build_warehouse(world: Path, work: Path) -> tuple[Path, subprocess.CompletedProcess, dict[str, str]]:
    """Raw layer from the world + planted anomalies + `dbt build`; returns (db, dbt result, anomalies)."""
    work.mkdir(parents=True, exist_ok=True)
    db = work / "goszakup.duckdb"
    raw_from_world(world, db)
    planted = plant_anomalies(db)
    result = run_dbt(db, work, "build")
    return db, result, planted


@pytest.fixture(scope="module")
def built(world_path: Path, tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("dbt_build")
    db, result, planted = build_warehouse(world_path, work)
    yield db, result, planted, work
    shutil.rmtree(work, ignore_errors=True)


def test_dbt_build_passes(built) -> None:
    _, result, _, _ = built
    assert result.returncode == 0, result.stdout[-6000:]
    assert "Completed successfully" in result.stdout


def test_reconciliation_balances_with_quarantine(built) -> None:
    db, _, planted, _ = built
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select entity, raw_rows, ocds_rows, quarantined_rows, balanced from quarantine.reconciliation order by entity"
        ).fetchall()
        assert [r[0] for r in rows] == ["contract", "lots", "trd_buy"]
        for entity, raw, ocds, quarantined, balanced in rows:
            assert balanced and raw == ocds + quarantined, entity
            assert quarantined > 0, f"planted anomalies must reach quarantine.{entity}"
        # recomputed independently of the reconciliation model
        raw_buys = con.execute("select count(*) from raw.trd_buy").fetchone()[0]
        ocds_buys = con.execute("select count(*) from ocds.tenders").fetchone()[0]
        q_buys = con.execute("select count(distinct raw_row_id) from quarantine.trd_buy").fetchone()[0]
        assert raw_buys == ocds_buys + q_buys

        def rules(table: str, record_id: str) -> set[str]:
            q = f"select rule from quarantine.{table} where record_id = ?"
            return {r[0] for r in con.execute(q, [record_id]).fetchall()}

        assert rules("lots", planted["lot"]) >= {"duplicate_id"}
        assert (
            con.execute(
                "select count(*) from quarantine.lots where record_id = ? and rule = 'duplicate_id'",
                [planted["lot"]],
            ).fetchone()[0]
            == 2
        )
        assert "negative_amount" in rules("contract", planted["negative"])
        assert "announcement_missing" in rules("contract", planted["orphan"])
        assert "invalid_biin" in rules("trd_buy", planted["bad_bin"])
        assert "deleted_at_source" in rules("trd_buy", planted["deleted"])
        # a deleted record leaves the dataset: no raw JSON kept for it
        assert (
            con.execute("select record from quarantine.trd_buy where rule = 'deleted_at_source'").fetchone()[
                0
            ]
            is None
        )
        # a refused record keeps its raw JSON and a reason naming the value
        rec, reason = con.execute(
            "select record, reason from quarantine.contract where record_id = ? and rule = 'negative_amount'",
            [planted["negative"]],
        ).fetchone()
        assert json.loads(rec)["id"] == int(planted["negative"]) and "-100" in reason
        # refused records are not in the OCDS tables, nor their children
        assert (
            con.execute("select count(*) from ocds.contracts where id = ?", [planted["negative"]]).fetchone()[
                0
            ]
            == 0
        )
        assert (
            con.execute(
                "select count(*) from ocds.transactions where contract_id = ?", [planted["negative"]]
            ).fetchone()[0]
            == 0
        )
        assert (
            con.execute(
                "select count(*) from ocds.tenders where announcement_id = ?", [int(planted["deleted"])]
            ).fetchone()[0]
            == 0
        )
        assert (
            con.execute("select count(*) from quarantine.records where stage = 'transform'").fetchone()[0] > 0
        )
    finally:
        con.close()


def test_ocds_tables_and_codes(built) -> None:
    db, _, _, _ = built
    con = duckdb.connect(str(db), read_only=True)
    try:
        for table in OCDS_TABLES:
            assert con.execute(f"select count(*) from ocds.{table}").fetchone()[0] > 0, table
        bad = con.execute(
            f"select count(*) from ocds.releases where not starts_with(ocid, '{TEST_PREFIX}-')"
        ).fetchone()[0]
        assert bad == 0
        methods = {
            r[0] for r in con.execute("select distinct procurement_method from ocds.tenders").fetchall()
        }
        assert methods <= {"open", "selective", "limited", "direct", None} and "open" in methods
        # local names are kept beside the OCDS code
        assert (
            con.execute(
                "select count(*) from ocds.tenders where procurement_method_details is null"
            ).fetchone()[0]
            == 0
        )
        schemes = {
            r[0] for r in con.execute("select distinct identifier_scheme from ocds.parties").fetchall()
        }
        assert schemes <= {"KZ-BIN", "KZ-IIN"} and "KZ-BIN" in schemes
        # VAT and non-VAT values both kept
        assert (
            con.execute(
                "select count(*) from ocds.contracts where value_amount is not null and value_amount_net is null"
            ).fetchone()[0]
            == 0
        )
        # timestamps carry their zone: 2024-02-01 10:00 Almaty (UTC+6) is 04:00 UTC
        assert (
            con.execute(
                "select data_type from information_schema.columns where table_schema='ocds' and table_name='tenders' and column_name='date_published'"
            ).fetchone()[0]
            == "TIMESTAMP WITH TIME ZONE"
        )
        schemas = {
            r[0]
            for r in con.execute(
                "select distinct schema_name from duckdb_tables() union select distinct schema_name from duckdb_views() where not internal"
            ).fetchall()
        }
        assert {"staging", "intermediate", "ocds", "quarantine"} <= schemas
        assert not any(s.startswith("main_") for s in schemas)
    finally:
        con.close()


def test_every_ocds_column_is_described(built) -> None:
    _, _, _, work = built
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    ocds = {
        n["name"]: n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "ocds"
    }
    assert set(ocds) == set(OCDS_TABLES)
    db = work / "goszakup.duckdb"
    con = duckdb.connect(str(db), read_only=True)
    try:
        for name, node in ocds.items():
            assert node["description"].strip(), name
            assert node["config"]["contract"]["enforced"] is True, name
            actual = [
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns where table_schema = 'ocds' and table_name = ? order by ordinal_position",
                    [name],
                ).fetchall()
            ]
            assert actual == list(node["columns"]), name
            missing = [c for c, col in node["columns"].items() if not col["description"].strip()]
            assert not missing, f"ocds.{name}: columns without description: {missing}"
    finally:
        con.close()


def test_pelican_singular_tests_catch_a_bad_release(built, tmp_path: Path) -> None:
    """The consistency tests are not vacuous: break a copy and they fail."""
    db, _, _, _ = built
    copy = tmp_path / "broken.duckdb"
    shutil.copyfile(db, copy)
    con = duckdb.connect(str(copy))
    try:
        con.execute(
            "update ocds.contracts set award_id = 'no-such-award' where id = (select min(id) from ocds.contracts)"
        )
        con.execute(
            "update ocds.tenders set number_of_tenderers = number_of_tenderers + 7 where ocid = (select min(ocid) from ocds.tenders)"
        )
    finally:
        con.close()
    result = run_dbt(
        copy,
        tmp_path,
        "test",
        "--select",
        "pelican_contract_has_award",
        "pelican_number_of_tenderers_matches_bids",
    )
    assert result.returncode != 0
    assert "FAIL" in result.stdout and "pelican_contract_has_award" in result.stdout
    assert "pelican_number_of_tenderers_matches_bids" in result.stdout


def test_docs_generate(built, tmp_path: Path) -> None:
    db, _, _, _ = built
    result = run_dbt(db, tmp_path, "docs", "generate")
    assert result.returncode == 0, result.stdout[-4000:]
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text())
    assert any(k.endswith(".releases") for k in catalog["nodes"])
