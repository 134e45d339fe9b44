"""The dlt connector against the sandbox over real HTTP: full, incremental, deletions, 429 storms."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.goszakup_api import ENTITIES
from pipelines.ingest import run_ingestion
from tests.helpers import admin, assert_matches_sandbox, duplicate_keys, raw_counts, settings_for

#: slow: loads the scale-1 world over HTTP several times
pytestmark = pytest.mark.slow


def test_full_load_matches_what_the_sandbox_serves(sandbox, tmp_path: Path) -> None:
    result = run_ingestion(settings_for(tmp_path), base_url=sandbox.url, token=sandbox.token)
    db = tmp_path / "goszakup.duckdb"
    assert_matches_sandbox(sandbox, db)
    assert result.loaded_rows["trd_buy"] == raw_counts(db)["trd_buy"] > 0
    assert result.stats.pages["lots"] >= 2, "scale 1 should need several GraphQL pages of lots"
    assert all(n == 0 for n in duplicate_keys(db).values())
    # datetimes stay naive local strings in raw; lists are JSON
    with duckdb.connect(str(db), read_only=True) as con:
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema='raw' and table_name='lots'"
            ).fetchall()
        )
    assert types["last_update_date"] == "VARCHAR"
    assert types["point_list"] == "JSON"


def test_incremental_run_loads_only_changed_rows_and_applies_deletions(sandbox, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    first = run_ingestion(settings, base_url=sandbox.url, token=sandbox.token)
    changes = admin(sandbox, "POST", "/_sandbox/advance", params={"epochs": 1})
    journal = admin(
        sandbox,
        "GET",
        "/v2/journal",
        params={"date_from": "2000-01-01", "date_to": "2100-01-01", "limit": 500},
    )
    deleted = [j for j in journal["items"] if j["action"] == "D"]
    assert deleted, "the sandbox's epoch should delete something"

    second = run_ingestion(settings, base_url=sandbox.url, token=sandbox.token)
    db = tmp_path / "goszakup.duckdb"
    assert_matches_sandbox(sandbox, db)
    assert all(n == 0 for n in duplicate_keys(db).values())

    changed = changes.get("trd_buy", {})
    expected = changed.get("updated", 0) + changed.get("inserted", 0)
    assert 0 < second.loaded_rows.get("trd_buy", 0) <= expected + 5  # the boundary may repeat a few
    assert second.loaded_rows.get("trd_buy", 0) < first.loaded_rows["trd_buy"] / 10

    services = {e.rest_path.removeprefix("/v3/"): e for e in ENTITIES.values() if e.rest_path}
    with duckdb.connect(str(db), read_only=True) as con:
        for item in deleted:
            entity = services[item["service_name"]]
            hits = con.execute(
                f'select count(*) from raw."{entity.name}" where "{entity.primary_key}" = ?',
                [item["object_id"]],
            ).fetchone()[0]
            assert hits == 0, (
                f"{entity.name} {item['object_id']} was deleted in the journal but is still loaded"
            )
        assert con.execute("select count(*) from raw.journal where action = 'D'").fetchone()[0] == len(
            deleted
        )

    third = run_ingestion(settings, base_url=sandbox.url, token=sandbox.token)
    assert all(n == 0 for n in duplicate_keys(db).values())
    assert third.loaded_rows.get("trd_buy", 0) <= 5


def test_429_storm_is_retried_and_nothing_is_lost(world_copy: Path, tmp_path: Path) -> None:
    from sandbox.server import run_sandbox

    faults = [
        {"kind": "429", "path_prefix": "/v3/graphql", "after_requests": 3, "count": 6, "retry_after": 1}
    ]
    with run_sandbox(world_copy, faults=faults) as server:
        result = run_ingestion(
            settings_for(tmp_path, backoff_factor=0.05),
            base_url=server.url,
            token=server.token,
        )
        assert result.stats.retries["429"] == 6
        assert_matches_sandbox(server, tmp_path / "goszakup.duckdb")


def test_client_rate_limit_keeps_under_the_api_limit(world_copy: Path, tmp_path: Path) -> None:
    """With ``api_rate_limit`` at the API's limit no request is refused; without it, some are.

    The control run (no client limit) proves the limit is tight enough to be hit at all.
    """
    from sandbox.server import run_sandbox

    entities = ["trd_buy", "lots"]  # two GraphQL streams in parallel, about 40 requests
    with run_sandbox(world_copy, rate_limit=8) as server:
        limited = run_ingestion(
            settings_for(tmp_path / "limited", api_rate_limit=8, backoff_factor=0.05),
            base_url=server.url,
            token=server.token,
            entities=entities,
            include_refs=False,
            include_journal=False,
        )
        refused = admin(server, "GET", "/_sandbox/stats")["rate_limited"]
        assert refused == 0 and limited.stats.retries.get("429", 0) == 0
        assert_matches_sandbox(server, tmp_path / "limited" / "goszakup.duckdb", tables=entities)

        free = run_ingestion(
            settings_for(tmp_path / "free", backoff_factor=0.05),
            base_url=server.url,
            token=server.token,
            entities=entities,
            include_refs=False,
            include_journal=False,
        )
        assert admin(server, "GET", "/_sandbox/stats")["rate_limited"] > refused
        assert free.stats.retries.get("429", 0) > 0
        assert_matches_sandbox(server, tmp_path / "free" / "goszakup.duckdb", tables=entities)


def test_wrong_token_fails_with_a_clear_error(sandbox, tmp_path: Path) -> None:
    from pipelines.assets.ingestion import is_source_error
    from pipelines.sources.http import SourceError

    with pytest.raises(Exception, match="401") as failed:
        run_ingestion(
            settings_for(tmp_path, max_retries=0),
            base_url=sandbox.url,
            token="wrong",
            entities=["rnu"],
            include_refs=False,
            include_journal=False,
        )
    # the status travels as data on the connector's error, wherever dlt wrapped it
    cause: BaseException | None = failed.value
    while cause is not None and not isinstance(cause, SourceError):
        cause = cause.__cause__ or cause.__context__
    assert isinstance(cause, SourceError), f"no SourceError in the chain of {failed.value!r}"
    assert (cause.status, cause.retryable, cause.entity) == (401, False, "rnu")
    assert cause.path is not None and cause.path.endswith("/v3/rnu")
    assert cause.content_type is not None and "json" in cause.content_type
    assert not is_source_error(failed.value)
