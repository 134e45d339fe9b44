"""The sandbox world: deterministic, the contract's exact layout, consistent, with findable patterns.

Real DuckDB files throughout: the session world of ``conftest.py`` (scale 1, seed 42) for reading,
private copies for advancing, and one extra build for the determinism check.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.goszakup_api import ENTITIES, JOURNAL_FIELDS, REF_FIELDS, REF_TABLES, SINGLE_SOURCE_METHODS
from sandbox import advance_world, build_world, ground_truth, write_ground_truth
from sandbox.patterns import REQUIRED_PATTERNS, RULES
from sandbox.world import TABLES, kz_check_digit, valid_biin

#: slow: builds scale-1 worlds
pytestmark = pytest.mark.slow

SEED, SCALE = 42, 1.0


@pytest.fixture(scope="module")
def con(world_path: Path):
    c = duckdb.connect(str(world_path), read_only=True)
    yield c
    c.close()


def table_digest(con: duckdb.DuckDBPyConnection, table: str) -> str:
    cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    rows = con.execute(
        f"SELECT * FROM {table} ORDER BY {', '.join(f'{c}::VARCHAR' for c in cols)}"
    ).fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def all_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()
    ]


def count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return con.execute(sql).fetchone()[0]


def test_same_seed_and_scale_give_identical_tables(world_path: Path, tmp_path: Path, con):
    again = build_world(tmp_path / "again.duckdb", seed=SEED, scale=SCALE)
    other = duckdb.connect(str(again), read_only=True)
    try:
        assert all_tables(other) == all_tables(con)
        for table in all_tables(con):
            assert table_digest(other, table) == table_digest(con, table), table
    finally:
        other.close()
    different = build_world(tmp_path / "seed7.duckdb", seed=7, scale=SCALE)
    c7 = duckdb.connect(str(different), read_only=True)
    try:
        assert table_digest(c7, "contract") != table_digest(con, "contract")
    finally:
        c7.close()


def test_layout_matches_the_api_contract(con):
    duck = {
        "int": "BIGINT",
        "float": "DOUBLE",
        "str": "VARCHAR",
        "datetime": "VARCHAR",
        "int[]": "BIGINT[]",
        "str[]": "VARCHAR[]",
    }
    for name, spec in TABLES.items():
        got = [(r[0], r[1]) for r in con.execute(f"DESCRIBE {name}").fetchall()]
        assert got == [(f.name, duck[f.type]) for f in spec.fields], name
    for entity in ENTITIES.values():
        assert [r[0] for r in con.execute(f"DESCRIBE {entity.name}").fetchall()] == entity.field_names
    for child, parent_key in [
        ("contract_units", "contract_id"),
        ("plans_kato", "pln_point_id"),
        ("app_lots", "app_id"),
        ("offers", "app_lot_id"),
    ]:
        assert con.execute(f"DESCRIBE {child}").fetchone()[0] == parent_key
    for ref in REF_TABLES:
        assert [r[0] for r in con.execute(f"DESCRIBE {ref}").fetchall()] == [f.name for f in REF_FIELDS]
        assert count(con, f"SELECT count(*) FROM {ref}") > 0, ref
    assert [r[0] for r in con.execute("DESCRIBE journal").fetchall()] == ["seq"] + [
        f.name for f in JOURNAL_FIELDS
    ]
    assert count(con, "SELECT count(*) FROM journal") == 0
    meta = dict(con.execute("SELECT key, value FROM world_meta").fetchall())
    assert meta["seed"] == "42" and meta["scale"] == "1" and meta["epoch"] == "0"


def test_rows_are_sorted_by_primary_key_and_keys_unique(con):
    for name, spec in TABLES.items():
        pk = spec.primary_key
        ids = [r[0] for r in con.execute(f"SELECT {pk} FROM {name}").fetchall()]
        assert ids == sorted(ids), f"{name} not in key order"
        assert len(ids) == len(set(ids)), f"{name} has duplicate keys"
        assert all(i is not None and i < 2**31 for i in ids), f"{name}: ids must fit GraphQL Int"


def test_row_counts_at_scale_1(con):
    ranges = {
        "trd_buy": (1_600, 2_600),
        "lots": (3_500, 6_000),
        "contract": (2_800, 4_500),
        "subject": (400, 800),
        "trd_app": (4_000, 14_000),
        "treasury_pay": (2_000, 6_000),
        "acts": (1_500, 4_500),
        "plans": (3_000, 7_000),
        "rnu": (10, 100),
    }
    for table, (lo, hi) in ranges.items():
        n = count(con, f"SELECT count(*) FROM {table}")
        assert lo <= n <= hi, f"{table}: {n} rows, expected {lo}..{hi}"
    assert count(con, "SELECT count(*) FROM contract WHERE parent_id IS NOT NULL") > 100


def test_referential_integrity(con):
    orphans = {
        "lot without trd_buy": "SELECT count(*) FROM lots WHERE trd_buy_id NOT IN (SELECT id FROM trd_buy)",
        "contract without trd_buy": "SELECT count(*) FROM contract WHERE trd_buy_id NOT IN (SELECT id FROM trd_buy)",
        "contract without supplier": "SELECT count(*) FROM contract WHERE supplier_id NOT IN (SELECT pid FROM subject)",
        "contract without buyer": "SELECT count(*) FROM contract WHERE customer_id NOT IN "
        "(SELECT pid FROM subject WHERE customer = 1)",
        "amendment without root": "SELECT count(*) FROM contract WHERE parent_id IS NOT NULL AND root_id NOT IN "
        "(SELECT id FROM contract WHERE parent_id IS NULL)",
        "unit without contract": "SELECT count(*) FROM contract_units WHERE contract_id NOT IN (SELECT id FROM contract)",
        "unit without lot": "SELECT count(*) FROM contract_units WHERE lot_id NOT IN (SELECT id FROM lots)",
        "unit without plan": "SELECT count(*) FROM contract_units WHERE pln_point_id NOT IN (SELECT id FROM plans)",
        "payment without contract": "SELECT count(*) FROM treasury_pay WHERE contract_id NOT IN (SELECT id FROM contract)",
        "act without contract": "SELECT count(*) FROM acts WHERE contract_id NOT IN (SELECT id FROM contract)",
        "plans_kato without plan": "SELECT count(*) FROM plans_kato WHERE pln_point_id NOT IN (SELECT id FROM plans)",
        "app without trd_buy": "SELECT count(*) FROM trd_app WHERE buy_id NOT IN (SELECT id FROM trd_buy)",
        "app without supplier": "SELECT count(*) FROM trd_app WHERE supplier_id NOT IN (SELECT pid FROM subject)",
        "app_lot without app": "SELECT count(*) FROM app_lots WHERE app_id NOT IN (SELECT id FROM trd_app)",
        "app_lot without lot": "SELECT count(*) FROM app_lots WHERE lot_id NOT IN (SELECT id FROM lots)",
        "offer without app_lot": "SELECT count(*) FROM offers WHERE app_lot_id NOT IN (SELECT id FROM app_lots)",
        "trd_buy without buyer": "SELECT count(*) FROM trd_buy WHERE customer_pid NOT IN (SELECT pid FROM subject)",
        "lot plan point missing": "SELECT count(*) FROM (SELECT unnest(point_list) AS p FROM lots) "
        "WHERE p NOT IN (SELECT id FROM plans)",
        "lot ENSTRU not in ref": "SELECT count(*) FROM (SELECT unnest(enstru_list) AS e FROM lots) "
        "WHERE e NOT IN (SELECT code FROM ref_enstru)",
        "KATO not in ref": "SELECT count(*) FROM subject WHERE kato NOT IN (SELECT code FROM ref_kato)",
        "rnu without subject": "SELECT count(*) FROM rnu WHERE pid NOT IN (SELECT pid FROM subject)",
        "method not in ref": "SELECT count(*) FROM trd_buy WHERE ref_trade_methods_id::VARCHAR NOT IN "
        "(SELECT code FROM ref_trade_methods)",
        "status not in ref": "SELECT count(*) FROM trd_buy WHERE ref_buy_status_id::VARCHAR NOT IN "
        "(SELECT code FROM ref_buy_status)",
        "failed tender with contract": "SELECT count(*) FROM contract WHERE trd_buy_id IN "
        "(SELECT id FROM trd_buy WHERE ref_buy_status_id IN (360, 410))",
    }
    bad = {what: n for what, sql in orphans.items() if (n := count(con, sql))}
    assert bad == {}


def test_values_are_plausible(con):
    assert count(con, "SELECT count(*) FROM contract WHERE ref_currency_code <> 'KZT'") == 0
    # VAT: with-VAT sum is 1.12x for VAT payers, equal otherwise (planted VAT cases excepted)
    bad_vat = count(
        con,
        """
        SELECT count(*) FROM contract c JOIN subject s ON s.pid = c.supplier_id
        WHERE c.id NOT IN (SELECT object_id FROM ground_truth WHERE pattern = 'vat_non_payer')
          AND c.parent_id IS NULL
          AND abs(c.contract_sum_wnds - c.contract_sum * CASE WHEN s.vat_payer = 1 THEN 1.12 ELSE 1 END) > 0.02""",
    )
    assert bad_vat == 0
    # every awarded lot's total equals the announcement's total_sum
    assert (
        count(
            con,
            """SELECT count(*) FROM trd_buy b WHERE abs(b.total_sum -
        (SELECT sum(amount) FROM lots l WHERE l.trd_buy_id = b.id)) > 0.05 * b.count_lots""",
        )
        == 0
    )
    dates = con.execute("SELECT min(publish_date), max(publish_date) FROM trd_buy").fetchone()
    assert dates[0] >= "2023-01-01" and dates[1] < "2025-01-01"
    assert count(con, "SELECT count(*) FROM contract WHERE sign_date >= '2025-01-01'") == 0
    assert (
        count(con, "SELECT count(*) FROM lots WHERE lot_number NOT SIMILAR TO '[0-9]{8}-[А-Я]+[0-9]+'") == 0
    )
    assert count(con, "SELECT count(*) FROM trd_buy WHERE number_anno NOT SIMILAR TO '[0-9]{8}-1'") == 0
    assert count(con, "SELECT count(DISTINCT substr(code, 1, 2)) FROM ref_enstru") >= 20
    assert count(con, "SELECT count(DISTINCT substr(kato, 1, 2)) FROM subject WHERE customer = 1") >= 12
    kinds = con.execute(
        "SELECT type_supplier, count(*) FROM subject WHERE supplier = 1 GROUP BY 1"
    ).fetchall()
    assert {k for k, _ in kinds} == {1, 2, 3}
    names = [r[0] for r in con.execute("SELECT name_ru || ' ' || name_kz FROM subject").fetchall()]
    for marker in ("ТОО «", "ИП ", "ЖШС", "ЖК "):
        assert any(marker in n for n in names), marker


def test_bins_and_iins_have_valid_check_digits(con):
    numbers = [r[0] for r in con.execute("SELECT coalesce(bin, iin) FROM subject").fetchall()]
    assert len(numbers) == len(set(numbers))
    bad = [n for n in numbers if not valid_biin(n)]
    assert bad == []
    assert count(con, "SELECT count(*) FROM subject WHERE customer = 1 AND bin IS NULL") == 0
    # the checksum itself: a known-valid number and the "10 twice" case
    assert kz_check_digit("12345678901") is not None
    assert valid_biin("000740001307")
    assert not valid_biin("000740001308")


def test_method_mix(con):
    direct = ", ".join(map(str, sorted(SINGLE_SOURCE_METHODS)))
    share = con.execute(f"SELECT avg((ref_trade_methods_id IN ({direct}))::INT) FROM trd_buy").fetchone()[0]
    assert 0.34 <= share <= 0.46
    # a failed tender is followed by a method-6 announcement of the same buyer pointing back at it
    assert (
        count(
            con,
            """SELECT count(*) FROM trd_buy f WHERE f.ref_buy_status_id = 360 AND NOT EXISTS
        (SELECT 1 FROM trd_buy s WHERE s.parent_id = f.id AND s.ref_trade_methods_id = 6
         AND s.customer_pid = f.customer_pid)""",
        )
        == 0
    )
    assert count(con, "SELECT count(*) FROM trd_buy WHERE ref_buy_status_id = 410") > 10
    assert count(con, "SELECT min(n) FROM (SELECT count(*) n FROM app_lots GROUP BY lot_id)") >= 1
    assert count(con, "SELECT max(n) FROM (SELECT count(*) n FROM app_lots GROUP BY lot_id)") == 8


def test_every_pattern_is_planted_and_found_exactly_by_its_rule(con):
    truth = ground_truth(con)
    by_pattern: dict[str, list[dict]] = {}
    for row in truth:
        by_pattern.setdefault(row["pattern"], []).append(row)
    for pattern in REQUIRED_PATTERNS:
        assert len(by_pattern.get(pattern, [])) >= 10, pattern
    for pattern, sql in RULES.items():
        expected = by_pattern[pattern]
        if pattern == "split_purchase":
            got = set(con.execute(f"SELECT DISTINCT buyer_pid, supplier_pid FROM ({sql})").fetchall())
            want = {(r["buyer_pid"], r["supplier_pid"]) for r in expected}
        else:
            got = {r[0] for r in con.execute(f"SELECT DISTINCT object_id FROM ({sql})").fetchall()}
            want = {r["object_id"] for r in expected}
        assert got == want, (
            f"{pattern}: false positives {sorted(got - want)[:5]}, missed {sorted(want - got)[:5]}"
        )
    assert all(r["details"]["trd_buy_ids"] for r in truth)


def test_write_ground_truth_is_deterministic(con, tmp_path: Path):
    a = write_ground_truth(con, tmp_path / "a.json").read_bytes()
    b = write_ground_truth(con, tmp_path / "b.json").read_bytes()
    assert a == b
    rows = json.loads(a)
    assert len(rows) == count(con, "SELECT count(*) FROM ground_truth")
    assert rows == sorted(
        rows, key=lambda r: (r["pattern"], r["object_type"], r["object_id"], r["supplier_pid"])
    )


def test_advance_world_changes_about_half_a_percent_and_journals_it(world_copy: Path):
    con = duckdb.connect(str(world_copy))
    try:
        before = {e: count(con, f"SELECT count(*) FROM {e}") for e in ENTITIES}
        max_cursor = {
            e.name: con.execute(f"SELECT max({e.cursor}) FROM {e.name}").fetchone()[0]
            for e in ENTITIES.values()
            if e.cursor
        }
        stats = advance_world(con)
        assert con.execute("SELECT value FROM world_meta WHERE key = 'epoch'").fetchone()[0] == "1"
        for e in ENTITIES:
            st = stats[e]
            assert st["deleted"] >= 1, e
            assert st["updated"] >= 1, e
            if before[e] >= 1000:
                assert 0.002 * before[e] <= st["updated"] <= 0.01 * before[e], (e, st)
            journal = dict(
                con.execute(
                    "SELECT action, count(*) FROM journal WHERE service_name = ? GROUP BY 1",
                    [ENTITIES[e].rest_path.removeprefix("/v3/")],
                ).fetchall()
            )
            assert journal == {"U": st["updated"], "D": st["deleted"]}, e
        assert stats["trd_buy"]["inserted"] >= 1 and stats["contract"]["inserted"] >= 1
        # updated rows carry a cursor after everything before, equal to their journal time
        for name, old_max in max_cursor.items():
            cursor = ENTITIES[name].cursor
            assert (
                count(
                    con,
                    f"""SELECT count(*) FROM journal j JOIN {name} t ON t.{ENTITIES[name].primary_key} =
                j.object_id WHERE j.action = 'U' AND j.service_name = '{ENTITIES[name].rest_path[4:]}'
                AND t.{cursor} <> j.date_action""",
                )
                == 0
            ), name
            assert con.execute(f"SELECT max({cursor}) FROM {name}").fetchone()[0] > old_max
        assert con.execute("SELECT min(date_action) FROM journal").fetchone()[0] >= "2025-01-01 10:00:00"
        urls = con.execute("SELECT url, service_name, object_id FROM journal").fetchall()
        assert all(u == f"/v3/{s}/{o}" for u, s, o in urls)
        seqs = [r[0] for r in con.execute("SELECT seq FROM journal ORDER BY seq").fetchall()]
        assert seqs == list(range(1, len(seqs) + 1))
        # epoch 2 comes strictly after epoch 1
        end1 = con.execute("SELECT max(date_action) FROM journal").fetchone()[0]
        advance_world(con)
        assert (
            con.execute("SELECT min(date_action) FROM journal WHERE seq > ?", [len(seqs)]).fetchone()[0]
            > end1
        )
    finally:
        con.close()


def test_deleted_objects_disappear_with_their_children_and_patterns_survive(world_copy: Path):
    con = duckdb.connect(str(world_copy))
    try:
        advance_world(con, epochs=2)
        deleted = con.execute("SELECT service_name, object_id FROM journal WHERE action = 'D'").fetchall()
        assert deleted
        pk = {e.rest_path[4:]: (e.name, e.primary_key) for e in ENTITIES.values()}
        for service, oid in deleted:
            table, key = pk[service]
            assert count(con, f"SELECT count(*) FROM {table} WHERE {key} = {oid}") == 0, (service, oid)
        # no orphans after deletions
        assert count(con, "SELECT count(*) FROM lots WHERE trd_buy_id NOT IN (SELECT id FROM trd_buy)") == 0
        assert (
            count(
                con, "SELECT count(*) FROM contract_units WHERE contract_id NOT IN (SELECT id FROM contract)"
            )
            == 0
        )
        assert count(con, "SELECT count(*) FROM app_lots WHERE app_id NOT IN (SELECT id FROM trd_app)") == 0
        assert (
            count(con, "SELECT count(*) FROM offers WHERE app_lot_id NOT IN (SELECT id FROM app_lots)") == 0
        )
        assert (
            count(con, "SELECT count(*) FROM plans_kato WHERE pln_point_id NOT IN (SELECT id FROM plans)")
            == 0
        )
        assert count(con, "SELECT count(*) FROM acts WHERE contract_id NOT IN (SELECT id FROM contract)") == 0
        # the planted patterns are still exactly what their rules find
        for pattern, sql in RULES.items():
            if pattern == "split_purchase":
                continue
            got = {r[0] for r in con.execute(f"SELECT DISTINCT object_id FROM ({sql})").fetchall()}
            want = {
                r[0]
                for r in con.execute(
                    "SELECT object_id FROM ground_truth WHERE pattern = ?", [pattern]
                ).fetchall()
            }
            assert got == want, pattern
    finally:
        con.close()


def test_advance_is_deterministic(world_path: Path, tmp_path: Path):
    digests = []
    for name in ("a", "b"):
        target = tmp_path / f"{name}.duckdb"
        shutil.copyfile(world_path, target)
        con = duckdb.connect(str(target))
        try:
            advance_world(con, epochs=2)
            digests.append([table_digest(con, t) for t in ("journal", "trd_buy", "contract", "lots")])
        finally:
            con.close()
    assert digests[0] == digests[1]
