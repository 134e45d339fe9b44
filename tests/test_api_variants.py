"""The connector against the real API's other shapes, served over HTTP by ``sandbox --variant``.

Per variant (ids as strings, numbers for codes, boolean flags, list forms, ISO dates with
offsets, paging variants, all at once): the load quarantines nothing and lands the same raw tables,
row for row, as the standard sandbox. A lossy variant is quarantined and trips the quarantine
gate. What retrying cannot fix (401, 404 on a contract path, a GraphQL validation error, an HTML
page with status 200) stops the load within 10 s with one line naming entity, path and the API's
message, and the Dagster step is not retried. Expected figures are counted in the world file
with SQL, not taken from the connector.
"""

from __future__ import annotations

import io
import re
import shutil
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.goszakup_api import ENTITIES
from pipelines.ingest import run_ingestion
from pipelines.sources.http import source_error
from sandbox.server import run_sandbox
from tests.conftest import settings_for

SCALE = 0.2
SEED = 42
CLEAN_VARIANTS = [
    "ids-as-strings",
    "numbers-for-codes",
    "bool-flags",
    "list-forms",
    "iso-dates",
    "paging",
    "real-api",
]


@pytest.fixture(scope="module")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sandbox import ensure_world

    return ensure_world(tmp_path_factory.mktemp("variant-worlds"), seed=SEED, scale=SCALE)


def _ingest(world: Path, data_dir: Path, variant: str | None = None, **server_options):
    data_dir.mkdir(parents=True, exist_ok=True)
    copy = data_dir / "world.duckdb"
    shutil.copyfile(world, copy)
    with run_sandbox(copy, variant=variant, **server_options) as server:
        return run_ingestion(settings_for(data_dir), base_url=server.url, token=server.token)


@pytest.fixture(scope="module")
def standard(small_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("standard")
    result = _ingest(small_world, data_dir)
    assert not result.stats.coercions, "the standard sandbox speaks the contract exactly"
    return data_dir / "goszakup.duckdb"


def _table_differences(expected: Path, actual: Path) -> dict[str, tuple[int, int]]:
    """Rows only in one warehouse or the other, per raw table (dlt's own columns left out)."""
    out = {}
    with duckdb.connect(str(expected), read_only=True) as con:
        con.execute(f"ATTACH '{actual}' AS actual (READ_ONLY)")
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'goszakup' "
                "AND table_schema = 'raw' AND table_name NOT LIKE '_dlt%'"
            ).fetchall()
        ]
        assert {"lots", "trd_buy", "contract", "contract_units", "offers", "subject", "rnu"} <= set(tables)
        for table in tables:
            columns = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'goszakup' "
                    "AND table_schema = 'raw' AND table_name = ? AND column_name NOT LIKE '_dlt%' "
                    "ORDER BY ordinal_position",
                    [table],
                ).fetchall()
            ]
            cols = ", ".join(f'"{c}"' for c in columns)
            a, b = f'goszakup.raw."{table}"', f'actual.raw."{table}"'
            only_expected = con.execute(
                f"SELECT count(*) FROM (SELECT {cols} FROM {a} EXCEPT ALL SELECT {cols} FROM {b})"
            )
            missing = only_expected.fetchone()[0]
            extra = con.execute(
                f"SELECT count(*) FROM (SELECT {cols} FROM {b} EXCEPT ALL SELECT {cols} FROM {a})"
            ).fetchone()[0]
            if missing or extra:
                out[table] = (missing, extra)
    return out


def _world_count(world: Path, sql: str) -> int:
    with duckdb.connect(str(world), read_only=True) as con:
        return int(con.execute(sql).fetchone()[0])


@pytest.mark.parametrize("variant", CLEAN_VARIANTS)
def test_each_variant_lands_the_standard_tables_without_quarantine(
    variant: str, small_world: Path, standard: Path, tmp_path: Path
) -> None:
    result = _ingest(small_world, tmp_path, variant)
    assert result.stats.as_dict()["quarantined"] == {}, result.stats.refusals_by_table()
    with duckdb.connect(str(tmp_path / "goszakup.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw._quarantine").fetchone()[0] == 0
    assert _table_differences(standard, tmp_path / "goszakup.duckdb") == {}

    coerced = result.stats.coercions
    lots = _world_count(small_world, "SELECT count(*) FROM lots")
    if variant == "paging":
        assert not coerced, "paging changes no value"
    if variant in ("ids-as-strings", "real-api"):
        assert coerced[("lots", "id", "str->int")] == lots
    if variant in ("numbers-for-codes", "real-api"):
        padded = _world_count(small_world, "SELECT count(*) FROM lots WHERE customer_bin LIKE '0%'")
        assert padded > 0
        assert coerced[("lots", "customer_bin", "int->str zero-padded")] == padded
    if variant in ("bool-flags", "real-api"):
        assert coerced[("lots", "is_deleted", "bool->int")] == lots
    if variant == "list-forms":
        single = _world_count(small_world, "SELECT count(*) FROM lots WHERE len(point_list) = 1")
        assert coerced[("lots", "point_list", "scalar->list")] == single
    if variant == "iso-dates":
        # odd ids are sent in UTC with milliseconds, even ids with the local offset
        odd = _world_count(small_world, "SELECT count(*) FROM lots WHERE id % 2 = 1")
        assert (
            coerced[("lots", "last_update_date", "datetime T, datetime zero fraction, datetime offset Z")]
            == odd
        )


def test_a_lossy_value_is_quarantined_and_trips_the_gate(small_world: Path, tmp_path: Path) -> None:
    from pipelines.assets.gate import gate_verdict

    result = _ingest(small_world, tmp_path, "lossy")
    expected = _world_count(
        small_world, "SELECT count(*) FROM lots WHERE id % 20 = 0 AND ref_lot_status_id IS NOT NULL"
    )
    lots = _world_count(small_world, "SELECT count(*) FROM lots")
    first = _world_count(
        small_world, "SELECT min(id) FROM lots WHERE id % 20 = 0 AND ref_lot_status_id IS NOT NULL"
    )
    assert expected > 0.01 * lots
    with duckdb.connect(str(tmp_path / "goszakup.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT DISTINCT entity, field FROM raw._quarantine").fetchall()
        held = con.execute("SELECT count(*) FROM raw._quarantine").fetchone()[0]
        landed = con.execute("SELECT count(*) FROM raw.lots").fetchone()[0]
    assert rows == [("lots", "ref_lot_status_id")]
    assert held == expected and landed == lots - expected
    metadata = {
        "records_received": result.stats.records["lots"],
        "quarantined_in_run": result.stats.quarantined["lots"],
        "rows_loaded": result.loaded_rows.get("lots", 0),
        "refusals": [r for r in result.stats.refusals_by_table() if r["table"] == "lots"],
    }
    passed, line, _ = gate_verdict("lots", metadata, 0.01)
    assert not passed
    assert "\n" not in line
    for words in ("lots", "ref_lot_status_id", "expected int, got str", f"{expected} records", f"id {first}"):
        assert words in line, line


def test_gate_verdicts_from_hand_written_figures() -> None:
    from pipelines.assets.gate import gate_verdict

    refusal = {"field": "is_deleted", "reason": "expected int, got bool", "count": 2, "example_id": "7"}
    ok, line, _ = gate_verdict(
        "lots", {"records_received": 1000, "quarantined_in_run": 10, "rows_loaded": 990}, 0.01
    )
    assert ok, line
    ok, line, figures = gate_verdict(
        "lots",
        {"records_received": 1000, "quarantined_in_run": 11, "rows_loaded": 989, "refusals": [refusal]},
        0.01,
    )
    assert not ok and figures["share"] == 0.011
    assert (
        line
        == "lots: 11 of 1000 records quarantined (1.1% > 1.0%); is_deleted: expected int, got bool: 2 records, e.g. id 7"
    )
    ok, line, _ = gate_verdict(
        "lots", {"records_received": 5, "quarantined_in_run": 0, "rows_loaded_by_table": {"lots": 0}}, 0.5
    )
    assert not ok and "returned 5 records and 0 rows landed" in line
    ok, _, _ = gate_verdict("lots", {"records_received": 0}, 0.01)
    assert ok, "an incremental run that received nothing passes"


FATAL = [
    # (case, server options, base path suffix, token, words the one line must hold)
    ("401", {}, "", "wrong-token", ["HTTP 401", "/v3/", "invalid credentials"]),
    ("404", {}, "/gone", None, ["HTTP 404", "/gone/v3/", "Page not found"]),
    ("html-200", {"variant": "html-200"}, "", None, ["is not JSON", "text/html", "Технические работы"]),
    (
        "graphql-validation",
        {"variant": "graphql-without-plans"},
        "",
        None,
        ["plans", "/v3/graphql", 'Cannot query field "Plans" on type "Query"'],
    ),
    ("graphql-limit", {"max_graphql_limit": 50}, "", None, ["/v3/graphql", "limit must be between 1 and 50"]),
]


@pytest.mark.parametrize(("case", "options", "suffix", "token", "words"), FATAL, ids=[c[0] for c in FATAL])
def test_what_retrying_cannot_fix_stops_within_10_s_in_one_line(
    case: str,
    options: dict,
    suffix: str,
    token: str | None,
    words: list[str],
    small_world: Path,
    tmp_path: Path,
) -> None:
    copy = tmp_path / "world.duckdb"
    shutil.copyfile(small_world, copy)
    with run_sandbox(copy, **options) as server:
        started = time.monotonic()
        with pytest.raises(Exception) as info:
            run_ingestion(settings_for(tmp_path), base_url=server.url + suffix, token=token or server.token)
        elapsed = time.monotonic() - started
        stats = server.stats()
    found = source_error(info.value)
    assert found is not None and not found.retryable, info.value
    line = str(found)
    assert "\n" not in line and found.entity and found.path and found.path in line
    assert found.entity in ENTITIES or found.entity.startswith("ref_") or found.entity == "journal"
    for words_ in words:
        assert words_ in line, line
    assert "wrong-token" not in line and server.token not in line
    assert elapsed < 10, f"{case}: stopped after {elapsed:.1f} s"
    assert stats.get("http_429", 0) == 0 and stats.get("faults_injected", 0) == 0


def test_the_dagster_step_is_not_retried_on_a_401(
    small_world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster import AssetKey, DagsterInstance, materialize
    from dagster_dlt import DagsterDltResource

    from pipelines.assets.ingestion import raw_goszakup
    from pipelines.resources import GoszakupResource

    copy = tmp_path / "world.duckdb"
    shutil.copyfile(small_world, copy)
    monkeypatch.setenv("GOSZAKUP_TOKEN", "wrong-token")
    with run_sandbox(copy) as server, DagsterInstance.ephemeral() as instance:
        resources = {
            "goszakup": GoszakupResource(api_base_url=server.url, data_dir=str(tmp_path)),
            "dlt": DagsterDltResource(),
        }
        started = time.monotonic()
        result = materialize(
            [raw_goszakup],
            selection=[AssetKey(["raw", "rnu"])],
            resources=resources,
            instance=instance,
            raise_on_error=False,
        )
        elapsed = time.monotonic() - started
    assert not result.success
    kinds = [e.event_type_value for e in result.all_events]
    assert "STEP_UP_FOR_RETRY" not in kinds and kinds.count("STEP_FAILURE") == 1
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.user_failure_data.description
    # rnu and the journal (read for its deletions) are extracted in parallel: either answers first
    assert re.match(r"(rnu|journal): HTTP 401 from GET /v[23]/(rnu|journal): ", message), message
    assert "invalid credentials" in message and "\n" not in message
    assert "wrong-token" not in message
    assert elapsed < 10, f"failed after {elapsed:.1f} s"


def test_check_api_reports_nothing_against_the_sandbox_and_the_differences_of_a_variant(
    small_world: Path, tmp_path: Path
) -> None:
    from pipelines.probe import check_api

    copy = tmp_path / "world.duckdb"
    shutil.copyfile(small_world, copy)
    with run_sandbox(copy) as server:
        note, reports = check_api(server.url, server.token)
    assert note == "introspection answered"
    assert [r.entity for r in reports if not r.clean] == []
    assert all(r.sampled == 5 for r in reports)

    with run_sandbox(copy, variant="real-api") as server:
        _, reports = check_api(server.url, server.token)
    by_entity = {r.entity: r for r in reports}
    assert all(r.lossless for r in reports), [r.lines() for r in reports]
    lots = by_entity["lots"]
    assert ("id", "values seen", "coerced (str->int)") in lots.types
    assert ("is_deleted", "values seen", "coerced (bool->int)") in lots.types

    with run_sandbox(copy, variant="graphql-without-plans") as server:
        _, reports = check_api(server.url, server.token)
    by_entity = {r.entity: r for r in reports}
    assert 'Cannot query field "Plans"' in (by_entity["plans"].fatal or "")
    assert not by_entity["plans"].lossless and by_entity["lots"].fatal is None


def test_check_api_command_prints_one_verdict_line(small_world: Path, tmp_path: Path) -> None:
    from pipelines.probe import run_check_api

    copy = tmp_path / "world.duckdb"
    shutil.copyfile(small_world, copy)
    out = io.StringIO()
    with run_sandbox(copy) as server:
        settings = settings_for(tmp_path, api_base_url=server.url, token="sandbox-token")
        code = run_check_api(settings, out)
    text = out.getvalue()
    assert code == 0, text
    assert text.strip().splitlines()[-1] == "8 of 8 entities load without loss; 8 match the contract exactly"
    assert not (tmp_path / "goszakup.duckdb").exists(), "check-api loads nothing"
