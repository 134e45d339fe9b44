"""Quality gates (expectations/): clean data passes every error check; each broken input is caught
by its named check and blocks publishing.

The base warehouse is the ingested sandbox world (conftest ``warehouse``) when the sandbox world
builder exists, else a small raw layer written here from the API contract (same tables, column
types and keys as the connector's). Broken inputs are SQL edits on a private copy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from expectations import LayerResult, asset_check_outcome, suite_names, validate_layer, validate_table
from pipelines.bin_iin import complete, is_valid
from pipelines.goszakup_api import ENTITIES, REF_FIELDS, REF_TABLES
from pipelines.settings import Settings
from tests.helpers import DBT_PROJECT

#: GOSZAKUP_TEST_SMALL_RAW=1 forces the small hand-written raw layer (fast; independent of ingestion;
#: ``make test-fast`` sets it). Otherwise the checks run on the scale-1 world ingested over HTTP.
USE_WORLD = os.environ.get("GOSZAKUP_TEST_SMALL_RAW") != "1"


_DUCK = {"int": "BIGINT", "float": "DOUBLE", "str": "VARCHAR", "datetime": "VARCHAR", "bool": "BOOLEAN"}


def _duck_type(t: str) -> str:
    return "JSON" if t.endswith("[]") else _DUCK[t]


def _create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every raw table of the contract, typed as the connector types them, empty."""
    con.execute("CREATE SCHEMA raw")
    specs = []
    for ent in ENTITIES.values():
        specs.append((ent.name, ent.fields, None))
        stack = [(ch, ent) for ch in ent.children]
        while stack:
            ch, _parent = stack.pop(0)
            specs.append((ch.table, ch.fields, ch.parent_key))
            stack.extend((g, ch) for g in ch.children)
    for ref in REF_TABLES:
        specs.append((ref, REF_FIELDS, None))
    for table, fields, parent_key in specs:
        cols = [f'"{f.name}" {_duck_type(f.type)}' for f in fields]
        if parent_key and parent_key not in [f.name for f in fields]:
            cols.append(f'"{parent_key}" BIGINT')
        cols += ['"_dlt_load_id" VARCHAR', '"_dlt_id" VARCHAR']
        con.execute(f'CREATE TABLE raw."{table}" ({", ".join(cols)})')
    con.execute(
        "CREATE TABLE raw.journal (action VARCHAR, object_id BIGINT, date_action VARCHAR, service_name VARCHAR, "
        "service_title VARCHAR, url VARCHAR, _dlt_load_id VARCHAR, _dlt_id VARCHAR)"
    )
    con.execute(
        "CREATE TABLE raw._quarantine (entity VARCHAR, table_name VARCHAR, record_id VARCHAR, field VARCHAR, "
        "reason VARCHAR, record VARCHAR, _dlt_load_id VARCHAR, _dlt_id VARCHAR)"
    )


def _bin(n: int) -> str:
    """The n-th valid BIN/IIN of a deterministic sequence."""
    k = 0
    while True:
        value = complete(f"{(n * 7919 + k) % 10**11:011d}")
        if value is not None:
            return value
        k += 1


def build_small_raw(path: Path) -> Path:
    """A small, internally consistent raw layer (20 announcements, 30 lots, 16 contracts)."""
    con = duckdb.connect(str(path))
    _create_raw_tables(con)

    def insert(table: str, rows: list[dict]) -> None:
        for i, row in enumerate(rows):
            row = {**row, "_dlt_id": f"{table}-{i}", "_dlt_load_id": "1"}
            cols = ", ".join(f'"{k}"' for k in row)
            con.execute(
                f'INSERT INTO raw."{table}" ({cols}) VALUES ({", ".join("?" * len(row))})', list(row.values())
            )

    insert("ref_trade_methods", [{"id": k, "code": str(k), "name_ru": f"m{k}"} for k in (2, 3, 6, 7, 23)])
    insert(
        "ref_currency",
        [{"id": 1, "code": "KZT", "name_ru": "тенге"}, {"id": 2, "code": "USD", "name_ru": "доллар"}],
    )
    insert("ref_buy_status", [{"id": k, "code": str(k), "name_ru": f"s{k}"} for k in (210, 350, 410)])
    buyers = [_bin(i) for i in range(1, 5)]
    suppliers = [_bin(i) for i in range(100, 110)]
    insert(
        "subject",
        [
            {
                "pid": i + 1,
                "bin": b,
                "name_ru": f"org {i}",
                "last_update_date": "2024-01-02 10:00:00",
                "regdate": "1999-05-01 00:00:00",
            }
            for i, b in enumerate(buyers + suppliers)
        ],
    )
    methods = [2, 3, 6, 7, 23]
    insert(
        "trd_buy",
        [
            {
                "id": 1000 + i,
                "number_anno": f"{1000 + i}-1",
                "total_sum": 1000.0 * (i + 1),
                "count_lots": 1 + i % 2,
                "ref_trade_methods_id": methods[i % 5],
                "customer_bin": buyers[i % 4],
                "org_bin": buyers[i % 4],
                "ref_buy_status_id": 350,
                "publish_date": f"2024-0{1 + i % 9}-10 09:00:00",
                "start_date": f"2024-0{1 + i % 9}-11 09:00:00",
                "end_date": f"2024-0{1 + i % 9}-25 18:00:00",
                "last_update_date": "2024-10-01 12:00:00",
                "fin_year": 2024,
            }
            for i in range(20)
        ],
    )
    lots = []
    for i in range(20):
        for j in range(1 + i % 2):
            lots.append(
                {
                    "id": 5000 + len(lots),
                    "lot_number": f"{1000 + i}-{j + 1}",
                    "trd_buy_id": 1000 + i,
                    "amount": 1000.0 * (i + 1) / (1 + i % 2),
                    "count": 2.0,
                    "customer_bin": buyers[i % 4],
                    "ref_trade_methods_id": methods[i % 5],
                    "ref_buy_trade_methods_id": methods[i % 5],
                    "point_list": "[1, 2]",
                    "enstru_list": '["a"]',
                    "last_update_date": "2024-10-01 12:00:00",
                }
            )
    insert("lots", lots)
    contracts = [
        {
            "id": 9000 + i,
            "trd_buy_id": 1000 + i,
            "trd_buy_number_anno": f"{1000 + i}-1",
            "customer_bin": buyers[i % 4],
            "supplier_biin": suppliers[i % 10],
            "contract_sum": 900.0 * (i + 1),
            "contract_sum_wnds": 1008.0 * (i + 1),
            "ref_currency_code": "KZT",
            "exchange_rate": 1.0,
            "sign_date": f"2024-{1 + i % 9:02d}-28 15:00:00",
            "crdate": f"2024-{1 + i % 9:02d}-27 15:00:00",
            "last_update_date": "2024-10-01 12:00:00",
            "fin_year": 2024,
            "fakt_trade_methods_id": methods[i % 5],
            "deleted": 0,
        }
        for i in range(15)
    ]
    contracts.append({**contracts[0], "id": 9100, "parent_id": 9000, "root_id": 9000, "contract_sum": 950.0})
    insert("contract", contracts)
    insert(
        "contract_units",
        [
            {
                "id": 20000 + i,
                "contract_id": 9000 + i,
                "lot_id": 5000,
                "total_sum": 10.0,
                "quantity": 1.0,
                "item_price": 10.0,
            }
            for i in range(15)
        ],
    )
    con.close()
    return path


@pytest.fixture(scope="module")
def clean_raw(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """A read-only clean raw warehouse: the ingested sandbox world, else the small one above."""
    if USE_WORLD:
        return request.getfixturevalue("warehouse")
    return build_small_raw(tmp_path_factory.mktemp("gx") / "goszakup.duckdb")


@pytest.fixture(scope="module")
def clean_result(clean_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> LayerResult:
    return validate_layer(clean_raw, "raw", report_dir=tmp_path_factory.mktemp("report"))


@pytest.fixture
def broken(clean_raw: Path, tmp_path: Path):
    """Copy the clean warehouse, apply SQL to break it, return the copy's path."""

    def apply(*statements: str) -> Path:
        target = tmp_path / "broken.duckdb"
        shutil.copyfile(clean_raw, target)
        with duckdb.connect(str(target)) as con:
            for sql in statements:
                con.execute(sql)
        return target

    return apply


def _failed(result: LayerResult) -> set[str]:
    return {r.name for r in result.failures()}


# --- suites and names ------------------------------------------------------------------------
def test_suite_names_cover_contract_tables() -> None:
    names = suite_names("raw")
    for table in (
        "raw.trd_buy",
        "raw.lots",
        "raw.contract",
        "raw.contract_units",
        "raw.subject",
        "raw._quarantine",
        "raw.ref_currency",
    ):
        assert table in names
    assert "ocds.tenders" in suite_names("ocds")
    with pytest.raises(ValueError, match="unknown layer"):
        suite_names("gold")  # type: ignore[arg-type]


# --- clean data ------------------------------------------------------------------------------
def test_clean_raw_passes_every_error_check(clean_result: LayerResult) -> None:
    errors = [
        (r.name, r.unexpected_count, r.sample[:2], r.description) for r in clean_result.failures("error")
    ]
    assert errors == []
    assert clean_result.passed
    names = {r.name for r in clean_result.results}
    for expected in (
        "raw.contract.id_unique",
        "raw.contract.contract_sum_non_negative",
        "raw.contract.supplier_biin_valid_bin_iin",
        "raw.contract.trd_buy_id_references_announcement",
        "raw.contract.ref_currency_code_in_ref_currency",
        "raw.contract.column_types",
        "raw.trd_buy.publish_date_plausible_year",
        "raw.trd_buy.ref_trade_methods_id_in_ref_trade_methods",
        "raw.subject.bin_valid_bin_iin",
        "raw._quarantine.empty",
        "raw.trd_buy.single_source_share_stable",
    ):
        assert expected in names
    assert len(clean_result.results) > 100


def test_clean_report_is_kept(clean_result: LayerResult) -> None:
    report = clean_result.report_dir
    assert report is not None
    summary = json.loads((report / "raw.summary.json").read_text())
    assert summary["passed"] is True and summary["failed_errors"] == 0
    assert summary["checks"] == len(clean_result.results)
    assert 0 <= summary["metrics"]["raw.trd_buy.single_source_share"] <= 1
    index = report / "data_docs" / "index.html"
    assert (
        index.is_file() and "raw.contract" in index.read_text() or any((report / "data_docs").rglob("*.html"))
    )
    validations = list((report / "data_docs" / "validations").rglob("*.html"))
    assert validations, "Data Docs hold no validation page"
    assert "raw.contract.contract_sum_non_negative" in (report / "raw.html").read_text()
    assert json.dumps(clean_result.summary())  # JSON-able


# --- broken inputs: the exact named check fails and blocks -----------------------------------
def _first(con_path: Path, sql: str):
    with duckdb.connect(str(con_path), read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def test_negative_contract_sum_is_caught(broken, clean_raw: Path) -> None:
    cid = _first(clean_raw, "SELECT min(id) FROM raw.contract")
    path = broken(f"UPDATE raw.contract SET contract_sum = -5 WHERE id = {cid}")
    result = validate_layer(path, "raw")
    check = result.result("raw.contract.contract_sum_non_negative")
    assert not check.success and check.severity == "error" and check.unexpected_count == 1
    assert check.sample == [{"id": cid, "contract_sum": -5.0}]
    assert not result.passed
    assert _failed(result) - _failed_clean(clean_raw) == {"raw.contract.contract_sum_non_negative"}


def test_bad_bin_check_digit_is_caught(broken, clean_raw: Path) -> None:
    cid, biin = (
        duckdb.connect(str(clean_raw), read_only=True)
        .execute(
            "SELECT id, supplier_biin FROM raw.contract WHERE supplier_biin IS NOT NULL ORDER BY id LIMIT 1"
        )
        .fetchone()
    )
    bad = biin[:11] + str((int(biin[11]) + 1) % 10)
    assert not is_valid(bad)
    path = broken(f"UPDATE raw.contract SET supplier_biin = '{bad}' WHERE id = {cid}")
    result = validate_layer(path, "raw")
    check = result.result("raw.contract.supplier_biin_valid_bin_iin")
    assert not check.success and check.unexpected_count == 1 and check.severity == "error"
    assert check.sample[0]["supplier_biin"] == bad and check.sample[0]["id"] == cid
    assert not result.passed
    assert _failed(result) - _failed_clean(clean_raw) == {"raw.contract.supplier_biin_valid_bin_iin"}


def test_duplicated_contract_id_is_caught(broken, clean_raw: Path) -> None:
    cid = _first(clean_raw, "SELECT min(id) FROM raw.contract")
    path = broken(
        f"INSERT INTO raw.contract SELECT * REPLACE ('dup' AS _dlt_id) FROM raw.contract WHERE id = {cid}"
    )
    result = validate_layer(path, "raw")
    check = result.result("raw.contract.id_unique")
    assert not check.success and check.unexpected_count == 2
    assert {s["id"] for s in check.sample} == {cid}
    assert not result.passed
    new = _failed(result) - _failed_clean(clean_raw)
    assert "raw.contract.id_unique" in new
    # an amendment pointing at the duplicated contract is still fine; nothing else breaks
    assert new <= {"raw.contract.id_unique", "raw.contract_units.contract_id_references_contract"}


def test_contract_without_announcement_is_caught(broken, clean_raw: Path) -> None:
    cid = _first(clean_raw, "SELECT min(id) FROM raw.contract WHERE trd_buy_id IS NOT NULL")
    path = broken(f"UPDATE raw.contract SET trd_buy_id = 987654321 WHERE id = {cid}")
    result = validate_layer(path, "raw")
    check = result.result("raw.contract.trd_buy_id_references_announcement")
    assert not check.success and check.unexpected_count == 1 and check.severity == "error"
    assert check.sample == [{"id": cid, "trd_buy_id": 987654321}]
    assert not result.passed
    assert _failed(result) - _failed_clean(clean_raw) == {"raw.contract.trd_buy_id_references_announcement"}


def test_field_that_changed_type_is_caught(broken, clean_raw: Path) -> None:
    """contract_sum arrives as text for one record: the table copy holds it as VARCHAR."""
    cid = _first(clean_raw, "SELECT min(id) FROM raw.contract")
    path = broken(
        "ALTER TABLE raw.contract ALTER contract_sum TYPE VARCHAR",
        f"UPDATE raw.contract SET contract_sum = '12,5 млн' WHERE id = {cid}",
    )
    result = validate_layer(path, "raw")
    check = result.result("raw.contract.column_types")
    assert not check.success and check.severity == "error"
    assert check.sample == [
        {"column_name": "contract_sum", "duckdb_type": "VARCHAR", "contract_type": "float"}
    ]
    assert not result.passed
    assert _failed(result) - _failed_clean(clean_raw) == {"raw.contract.column_types"}


def test_dlt_variant_column_is_caught(broken) -> None:
    """dlt keeps a value of another type in a variant column (contract_sum__v_text)."""
    path = broken("ALTER TABLE raw.contract ADD COLUMN contract_sum__v_text VARCHAR")
    results = validate_table(duckdb.connect(str(path), read_only=True), "raw", "contract")
    check = next(r for r in results if r.name == "raw.contract.column_types")
    assert not check.success
    assert check.sample[0]["column_name"] == "contract_sum__v_text"
    outcome = asset_check_outcome(results)
    assert outcome["passed"] is False and outcome["severity"] == "ERROR"
    assert "raw.contract.column_types" in outcome["metadata"]["failed_errors"]


def test_quarantine_rows_warn_but_do_not_block(broken, clean_raw: Path) -> None:
    path = broken(
        "INSERT INTO raw._quarantine (entity, table_name, record_id, field, reason, _dlt_load_id, _dlt_id) "
        "VALUES ('contract', 'contract', '1', 'contract_sum', 'text in a float field', '1', 'q1')"
    )
    result = validate_layer(path, "raw")
    check = result.result("raw._quarantine.empty")
    assert not check.success and check.severity == "warning" and check.observed == 1
    assert check.sample[0]["record_id"] == "1" and check.sample[0]["reason"] == "text in a float field"
    assert result.passed == _clean_passed(clean_raw)  # a warning never blocks


def test_single_source_share_moving_out_of_band_warns(clean_raw: Path, clean_result: LayerResult) -> None:
    share = clean_result.metrics["raw.trd_buy.single_source_share"]
    previous = {
        "metrics": {"raw.trd_buy.single_source_share": min(1.0, share + 0.3) if share < 0.5 else share - 0.3}
    }
    results = validate_table(
        duckdb.connect(str(clean_raw), read_only=True), "raw", "trd_buy", previous=previous
    )
    check = next(r for r in results if r.name == "raw.trd_buy.single_source_share_stable")
    assert not check.success and check.severity == "warning"
    assert check.observed == pytest.approx(share)
    same = validate_table(
        duckdb.connect(str(clean_raw), read_only=True), "raw", "trd_buy", previous=clean_result.summary()
    )
    assert next(r for r in same if r.name == "raw.trd_buy.single_source_share_stable").success


def test_risk_layer_absent_is_a_skipped_warning(clean_raw: Path) -> None:
    result = validate_layer(clean_raw, "risk")
    assert [(r.name, r.severity, r.skipped) for r in result.results] == [
        ("risk.schema.present", "warning", True)
    ]
    assert result.passed


def test_risk_marts_rules(broken) -> None:
    path = broken(
        "CREATE SCHEMA risk",
        "CREATE TABLE risk.process_flags AS SELECT * FROM (VALUES ('ocds-xxxxxx-goszakup-1', 'R018', 'flagged', 0.5),"
        " ('ocds-xxxxxx-goszakup-2', 'R018', 'maybe', 1.5)) t(ocid, indicator, status, score)",
    )
    result = validate_layer(path, "risk")
    assert _failed(result) == {
        "risk.process_flags.status_in_flag_states",
        "risk.process_flags.score_in_unit_interval",
    }
    assert not result.passed


_clean_cache: dict[Path, LayerResult] = {}


def _clean(clean_raw: Path) -> LayerResult:
    if clean_raw not in _clean_cache:
        _clean_cache[clean_raw] = validate_layer(clean_raw, "raw")
    return _clean_cache[clean_raw]


def _failed_clean(clean_raw: Path) -> set[str]:
    return _failed(_clean(clean_raw))


def _clean_passed(clean_raw: Path) -> bool:
    return _clean(clean_raw).passed


# --- with dbt: the bad records are quarantined, and the OCDS layer reconciles ------------------


def _dbt(warehouse: Path, tmp: Path) -> dict[str, str]:
    """Build the dbt project's seeds and models on ``warehouse`` (a subprocess: dbt-duckdb keeps its connection
    open in-process); returns model name -> status from run_results.json."""
    env = {**os.environ, "GOSZAKUP_DUCKDB_PATH": str(warehouse), "DBT_PROFILES_DIR": str(DBT_PROJECT)}
    dbt = Path(sys.executable).with_name("dbt")
    statuses: dict[str, str] = {}
    for command in (["build", "--resource-type", "seed", "--resource-type", "model"],):
        target = tmp / "dbt_target"
        proc = subprocess.run(
            [
                str(dbt),
                *command,
                "--project-dir",
                str(DBT_PROJECT),
                "--target-path",
                str(target),
                "--log-path",
                str(tmp / "dbt_logs"),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        results = target / "run_results.json"
        assert results.is_file(), proc.stdout[-3000:] + proc.stderr[-3000:]
        for node in json.loads(results.read_text())["results"]:
            statuses[node["unique_id"].split(".")[-1]] = node["status"]
    return statuses


@pytest.mark.slow
def test_broken_records_are_quarantined_by_dbt_and_ocds_reconciles(
    broken, clean_raw: Path, tmp_path: Path
) -> None:
    with duckdb.connect(str(clean_raw), read_only=True) as con:
        ids = [
            r[0]
            for r in con.execute(
                "SELECT id FROM raw.contract WHERE coalesce(parent_id, 0) IN (0, id) AND supplier_biin IS NOT NULL "
                "AND id NOT IN (SELECT coalesce(parent_id, 0) FROM raw.contract) ORDER BY id LIMIT 4"
            ).fetchall()
        ]
        biin = con.execute(f"SELECT supplier_biin FROM raw.contract WHERE id = {ids[1]}").fetchone()[0]
    negative, bad_bin, duplicated, orphan = ids
    bad = biin[:11] + str((int(biin[11]) + 1) % 10)
    path = broken(
        f"UPDATE raw.contract SET contract_sum_wnds = -5 WHERE id = {negative}",
        f"UPDATE raw.contract SET supplier_biin = '{bad}' WHERE id = {bad_bin}",
        f"INSERT INTO raw.contract SELECT * REPLACE ('dup-row' AS _dlt_id) FROM raw.contract WHERE id = {duplicated}",
        f"UPDATE raw.contract SET trd_buy_id = 987654321 WHERE id = {orphan}",
    )
    raw_result = validate_layer(path, "raw")
    assert {
        "raw.contract.contract_sum_wnds_non_negative",
        "raw.contract.supplier_biin_valid_bin_iin",
        "raw.contract.id_unique",
        "raw.contract.trd_buy_id_references_announcement",
    } <= _failed(raw_result)
    assert not raw_result.passed

    statuses = _dbt(path, tmp_path)
    assert statuses.get("quarantine_contract") == "success", statuses
    with duckdb.connect(str(path), read_only=True) as con:
        rules = con.execute("SELECT record_id, rule FROM quarantine.contract").fetchall()
    for record_id, _what in (
        (negative, "negative"),
        (bad_bin, "biin"),
        (duplicated, "duplicate"),
        (orphan, "announcement"),
    ):
        assert any(rid == str(record_id) and _what in rule for rid, rule in rules), (record_id, rules)
    # nothing dropped silently: raw rows = OCDS rows + quarantined rows
    if statuses.get("contracts") == "success":
        ocds_result = validate_layer(path, "ocds", ocid_prefix=Settings(_env_file=None).ocid_prefix)
        check = ocds_result.result("ocds.contracts.reconciles_with_raw")
        assert check.success, check
