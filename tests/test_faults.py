"""Every fault the sandbox can inject, against the real connector over HTTP.

Each test names its fault, runs ingestion through it, and proves nothing was lost or duplicated:
the warehouse holds exactly what the sandbox serves (or, for a value of the wrong type, the record
is in ``raw._quarantine`` with its field and reason). A fault the connector cannot outlast fails
the run loudly, naming the entity, the page and the reason, and the next run completes. The
figures (faults survived, rows compared) are printed at the end of the test run (conftest).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipelines.goszakup_api import ENTITIES
from pipelines.ingest import IngestResult, run_ingestion
from sandbox.server import run_sandbox
from tests.helpers import admin, assert_matches_sandbox, duplicate_keys, settings_for

#: slow: loads the scale-1 world over HTTP under injected faults
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

#: fault kind -> (entity the rule targets, rule overrides, entities loaded)
RETRIED = {
    "429 storm on GraphQL": ("lots", {"kind": "429", "after_requests": 2, "count": 5, "retry_after": 1}),
    "429 on REST": ("subject", {"kind": "429", "after_requests": 1, "count": 2, "retry_after": 1}),
    "500": ("lots", {"kind": "500", "after_requests": 3, "count": 3}),
    "503": ("contract", {"kind": "503", "after_requests": 1, "count": 2}),
    "timeout": ("trd_buy", {"kind": "timeout", "after_requests": 2, "count": 2, "seconds": 3.0}),
    "truncated body": ("lots", {"kind": "truncated", "after_requests": 4, "count": 2}),
    "truncated body, consistent length": (
        "acts",
        {"kind": "truncated", "after_requests": 1, "count": 1, "declare_full_length": False},
    ),
    "invalid JSON": ("contract", {"kind": "invalid_json", "after_requests": 2, "count": 2}),
    "page repeated": ("lots", {"kind": "repeat_page", "after_requests": 3, "count": 2}),
    "empty page mid-stream": ("lots", {"kind": "empty_page", "after_requests": 5, "count": 1}),
    "empty page on REST": ("subject", {"kind": "empty_page", "after_requests": 1, "count": 1}),
}


def _tables(entity: str) -> list[str]:
    return ENTITIES[entity].tables()


def _ingest(server, data_dir: Path, entity: str, **settings) -> IngestResult:
    overrides = {"backoff_factor": 0.05, "max_retry_delay_s": 2.0, **settings}
    # the code tables and the journal are not what these faults are about: leave them out
    return run_ingestion(
        settings_for(data_dir, **overrides),
        base_url=server.url,
        token=server.token,
        entities=[entity],
        include_refs=False,
        include_journal=False,
    )


def _retried(result: IngestResult) -> int:
    return sum(result.stats.retries.values())


@pytest.mark.parametrize("fault", list(RETRIED))
def test_fault_is_retried_and_nothing_is_lost(
    fault: str, world_copy: Path, tmp_path: Path, fault_report
) -> None:
    entity, rule = RETRIED[fault]
    with run_sandbox(world_copy, faults=[{"entity": entity, **rule}]) as server:
        result = _ingest(server, tmp_path, entity, request_timeout_s=1.0)
        counts = assert_matches_sandbox(server, tmp_path / "goszakup.duckdb", _tables(entity))
        injected = faults_injected(server)
    assert injected == rule["count"], f"{fault}: the sandbox injected {injected}, expected {rule['count']}"
    assert all(n == 0 for t, n in duplicate_keys(tmp_path / "goszakup.duckdb").items() if t in counts)
    if rule["kind"] in ("429", "500", "503", "invalid_json"):
        assert _retried(result) >= rule["count"], f"{fault}: retries {result.stats.retries}"
    fault_report.add(fault, "retried", sum(counts.values()))


def faults_injected(server) -> int:
    """Faults the sandbox has injected so far."""
    return int(admin(server, "GET", "/_sandbox/stats").get("faults_injected", 0))


def test_record_that_changes_between_pages_is_caught_up(
    world_copy: Path, tmp_path: Path, fault_report
) -> None:
    """A record updated while the walk is under way: the next incremental run brings its new version."""
    rule = {"kind": "record_changes", "entity": "lots", "after_requests": 3, "count": 1}
    with run_sandbox(world_copy, faults=[rule]) as server:
        _ingest(server, tmp_path, "lots")
        second = _ingest(server, tmp_path, "lots")
        counts = assert_matches_sandbox(server, tmp_path / "goszakup.duckdb", _tables("lots"))
        assert faults_injected(server) == 1
        served = admin_lots_latest(server)
    db = tmp_path / "goszakup.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        held = dict(con.execute("select id, last_update_date from raw.lots").fetchall())
    stale = {i: (held.get(i), u) for i, u in served.items() if held.get(i) != u}
    assert not stale, f"lots whose latest version is not loaded: {stale}"
    assert second.loaded_rows.get("lots", 0) >= 1
    fault_report.add("record changes between pages", "caught up next run", sum(counts.values()))


def admin_lots_latest(server) -> dict[int, str]:
    """id -> lastUpdateDate of every lot the sandbox serves now (via its own GraphQL)."""
    import requests

    query = "query($after: Int){ Lots(limit: 200, after: $after) { id lastUpdateDate } }"
    out: dict[int, str] = {}
    after = None
    while True:
        body = requests.post(
            server.url + "/v3/graphql",
            json={"query": query, "variables": {"after": after}},
            headers={"Authorization": f"Bearer {server.token}"},
            timeout=60,
        ).json()
        for row in body["data"]["Lots"]:
            out[int(row["id"])] = row["lastUpdateDate"]
        info = body["extensions"]["pageInfo"]
        if not info["hasNextPage"]:
            return out
        after = info["lastId"]


def test_field_that_changes_type_is_quarantined(world_copy: Path, tmp_path: Path, fault_report) -> None:
    rule = {"kind": "type_change", "entity": "trd_buy", "after_requests": 2, "count": 1, "field": "total_sum"}
    with run_sandbox(world_copy, faults=[rule]) as server:
        result = _ingest(server, tmp_path, "trd_buy")
        served = admin(server, "GET", "/_sandbox/counts")["trd_buy"]
    db = tmp_path / "goszakup.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        held = con.execute("select count(*) from raw.trd_buy").fetchone()[0]
        quarantined = con.execute(
            "select entity, record_id, field, reason, record from raw._quarantine"
        ).fetchall()
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'raw' and table_name = 'trd_buy'"
            ).fetchall()
        )
    assert len(quarantined) == 1, quarantined
    entity, record_id, field, reason, record = quarantined[0]
    assert (entity, field) == ("trd_buy", "total_sum")
    assert "expected float" in reason and "12,5 млн" in reason
    assert json.loads(record)["id"] == int(record_id)
    assert held == served - 1, "every other record is loaded; the refused one is kept in quarantine"
    assert types["total_sum"] == "DOUBLE" and not any(c.startswith("total_sum__v") for c in types)
    assert result.stats.as_dict()["quarantined"].get("trd_buy", 0) in (0, 1)
    fault_report.add("field changes type", "quarantined", held + 1)


def test_fault_past_the_retries_fails_loudly_and_the_next_run_completes(
    world_copy: Path, tmp_path: Path, fault_report
) -> None:
    rule = {"kind": "500", "entity": "lots", "after_requests": 4, "count": 3}
    with run_sandbox(world_copy, faults=[rule]) as server:
        with pytest.raises(Exception) as failed:
            _ingest(server, tmp_path, "lots", max_retries=2)
        message = "".join(str(e) for e in _chain(failed.value))
        assert "lots: page 5: HTTP 500 from POST" in message, message
        assert "after retries" in message
        # the fault is spent: the next run completes with exactly what is served, no duplicates
        _ingest(server, tmp_path, "lots", max_retries=2)
        counts = assert_matches_sandbox(server, tmp_path / "goszakup.duckdb", _tables("lots"))
    assert all(n == 0 for t, n in duplicate_keys(tmp_path / "goszakup.duckdb").items() if t in counts)
    fault_report.add("500 past the retries", "failed loudly, next run complete", sum(counts.values()))


def test_page_that_never_advances_is_reported(world_copy: Path, tmp_path: Path) -> None:
    rule = {"kind": "empty_page", "entity": "lots", "after_requests": 2, "count": 10}
    with run_sandbox(world_copy, faults=[rule]) as server, pytest.raises(Exception) as failed:
        _ingest(server, tmp_path, "lots")
    message = "".join(str(e) for e in _chain(failed.value))
    assert "lots: page 6 says hasNextPage but did not advance" in message, message


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__
