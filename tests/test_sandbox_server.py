"""The sandbox server over real HTTP, against a tiny world this file writes by hand.

The hand-written world follows the layout the world generator promises (one table per entity,
child tables with their parent key, ref tables, ``journal``, ``ground_truth``, ``world_meta``), so
these tests do not depend on the generator; one test also runs against ``build_world`` when it
exists.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import shutil
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.goszakup_api import ENTITIES, JOURNAL_FIELDS, REF_FIELDS, REF_TABLES, Child, Field
from pipelines.settings import SANDBOX_TOKEN
from sandbox.server import SandboxServer, run_sandbox

pytestmark = pytest.mark.timeout(120)

SQL_TYPES = {
    "int": "BIGINT",
    "float": "DOUBLE",
    "str": "VARCHAR",
    "datetime": "VARCHAR",
    "bool": "BOOLEAN",
    "int[]": "BIGINT[]",
    "str[]": "VARCHAR[]",
}
N_ROWS = {
    "trd_buy": 23,
    "lots": 31,
    "contract": 12,
    "plans": 7,
    "trd_app": 9,
    "acts": 5,
    "subject": 8,
    "rnu": 4,
}
BASE = dt.datetime(2024, 1, 1, 0, 0, 0)


def _value(f: Field, i: int) -> Any:
    if f.type == "int":
        return i * 3 + 1
    if f.type == "float":
        return i * 1.5 + 100.0
    if f.type == "datetime":
        return (BASE + dt.timedelta(hours=13 * i)).strftime("%Y-%m-%d %H:%M:%S")
    if f.type == "int[]":
        return [i, i + 1]
    if f.type == "str[]":
        return [f"s{i}"]
    if f.type == "bool":
        return i % 2 == 0
    return f"{f.name}-{i}"


def _create(
    con: duckdb.DuckDBPyConnection, table: str, fields: list[Field], extra: dict[str, str]
) -> list[str]:
    cols = {f.name: SQL_TYPES[f.type] for f in fields}
    for name, type_ in extra.items():
        cols.setdefault(name, type_)
    con.execute(f"CREATE TABLE {table} (" + ", ".join(f'"{c}" {t}' for c, t in cols.items()) + ")")
    return list(cols)


def _insert(con: duckdb.DuckDBPyConnection, table: str, cols: list[str], rows: list[dict]) -> None:
    if rows:
        con.executemany(
            f"INSERT INTO {table} VALUES ({', '.join('?' * len(cols))})",
            [[r.get(c) for c in cols] for r in rows],
        )


def write_tiny_world(path: Path) -> dict[str, list[dict]]:
    """Write a small world file; returns the rows per table (what the tests compare against)."""
    con = duckdb.connect(str(path))
    out: dict[str, list[dict]] = {}
    next_child_id = 5000

    def children_of(child: Child, parent_ids: list[int]) -> None:
        nonlocal next_child_id
        cols = _create(con, child.table, list(child.fields), {child.parent_key: "BIGINT"})
        rows = []
        for pid in parent_ids:
            for _ in range(pid % 3):  # 0, 1 or 2 children: some parents have none
                next_child_id += 7
                row = {f.name: _value(f, next_child_id) for f in child.fields}
                row["id"] = next_child_id
                row[child.parent_key] = pid
                rows.append(row)
        _insert(con, child.table, cols, rows)
        out[child.table] = rows
        for grandchild in child.children:
            children_of(grandchild, [r["id"] for r in rows])

    for ent in ENTITIES.values():
        cols = _create(con, ent.name, list(ent.fields), {})
        rows = []
        for i in range(N_ROWS[ent.name]):
            row = {f.name: _value(f, i) for f in ent.fields}
            row[ent.primary_key] = 100 + 10 * i + (i % 4)  # gaps, like real ids
            if ent.cursor:
                # 4 rows share each timestamp, so range bounds fall on ties
                row[ent.cursor] = (BASE + dt.timedelta(days=i // 4, hours=12)).strftime("%Y-%m-%d %H:%M:%S")
            rows.append(row)
        # insert out of order: the server must sort, not rely on insertion order
        _insert(con, ent.name, cols, rows[::-1])
        out[ent.name] = rows
        for child in ent.children:
            children_of(child, [r[ent.primary_key] for r in rows])
    for ref in REF_TABLES:
        cols = _create(con, ref, list(REF_FIELDS), {})
        rows = [
            {"id": j + 1, "code": f"{ref}-{j}", "name_ru": f"{ref} {j}", "name_kz": f"{ref} {j}"}
            for j in range(3)
        ]
        _insert(con, ref, cols, rows)
        out[ref] = rows
    cols = _create(con, "journal", list(JOURNAL_FIELDS), {"seq": "BIGINT"})
    cols = ["seq", *[c for c in cols if c != "seq"]]
    con.execute("DROP TABLE journal")
    con.execute(
        "CREATE TABLE journal (seq BIGINT, "
        + ", ".join(f'"{f.name}" {SQL_TYPES[f.type]}' for f in JOURNAL_FIELDS)
        + ")"
    )
    jrows = []
    for k in range(30):
        day = BASE + dt.timedelta(days=k // 3, hours=(k % 3) * 11)  # 3 entries a day: 00:00, 11:00, 22:00
        jrows.append(
            {
                "seq": k + 1,
                "action": "D" if k % 5 == 0 else "U",
                "object_id": 100 + k,
                "date_action": day.strftime("%Y-%m-%d %H:%M:%S"),
                "service_name": "trd-buy",
                "service_title": "Объявления",
                "url": f"/v3/trd-buy/{100 + k}",
            }
        )
    _insert(con, "journal", cols, jrows)
    out["journal"] = jrows
    con.execute(
        "CREATE TABLE ground_truth (pattern VARCHAR, grain VARCHAR, object_type VARCHAR, object_id BIGINT, "
        "buyer_pid BIGINT, supplier_pid BIGINT, details JSON)"
    )
    con.execute(
        """INSERT INTO ground_truth VALUES ('split_purchase', 'buyer', 'trd_buy', 110, 1, 2, '{"n": 3}')"""
    )
    con.execute("CREATE TABLE world_meta (key VARCHAR, value VARCHAR)")
    con.execute("INSERT INTO world_meta VALUES ('seed', '0'), ('scale', 'tiny')")
    con.close()
    return out


# --- HTTP helpers -------------------------------------------------------------------------------


def call(
    server: SandboxServer, method: str, path: str, body: Any = None, token: str | None = SANDBOX_TOKEN
) -> tuple[int, dict[str, str], Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(server.url + path, data=data, method=method)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw, status, headers = resp.read(), resp.status, dict(resp.headers)
    except urllib.error.HTTPError as exc:
        raw, status, headers = exc.read(), exc.code, dict(exc.headers)
    try:
        return status, headers, json.loads(raw)
    except ValueError:
        return status, headers, raw


def gql(server: SandboxServer, query: str, variables: dict | None = None, token: str | None = SANDBOX_TOKEN):
    return call(server, "POST", "/v3/graphql", {"query": query, "variables": variables or {}}, token=token)


def walk_rest(server: SandboxServer, first: str) -> list[dict]:
    items, path, pages = [], first, 0
    while path:
        status, _, body = call(server, "GET", path)
        assert status == 200, body
        items.extend(body["items"])
        assert body["next_page"] == "" or body["next_page"].startswith("/v")
        path = body["next_page"]
        pages += 1
        assert pages < 100
    return items


def set_faults(server: SandboxServer, rules: list[dict]) -> None:
    status, _, body = call(server, "POST", "/_sandbox/faults", rules)
    assert status == 200, body


ERROR_KEYS = {"name", "message", "code", "status", "type"}


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[dict]]]:
    path = tmp_path_factory.mktemp("world") / "tiny.duckdb"
    return path, write_tiny_world(path)


@pytest.fixture(scope="module")
def server(world):
    """A read-only use of the world: no test on this server mutates it."""
    with run_sandbox(world[0]) as srv:
        yield srv


@pytest.fixture()
def fresh(world, tmp_path):
    """Factory of servers over a private copy of the world (for tests that change it or set faults)."""
    started: list[SandboxServer] = []

    def make(**kwargs: Any) -> SandboxServer:
        copy = tmp_path / f"world{len(started)}.duckdb"
        shutil.copy(world[0], copy)
        srv = SandboxServer(copy, **kwargs).start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


# --- auth -----------------------------------------------------------------------------------------


def test_health_is_open_and_everything_else_needs_the_token(server):
    assert call(server, "GET", "/_sandbox/health", token=None)[0] == 200
    for token in (None, "wrong-token"):
        status, _, body = call(server, "GET", "/v3/trd-buy", token=token)
        assert status == 401 and set(body) == ERROR_KEYS and body["status"] == 401
        status, _, body = gql(server, "{ __schema { queryType { name } } }", token=token)
        assert status == 401 and set(body) == ERROR_KEYS
        assert call(server, "GET", "/_sandbox/stats", token=token)[0] == 401
        assert (
            call(server, "GET", "/v2/journal?date_from=2024-01-01&date_to=2024-01-02", token=token)[0] == 401
        )
    status, _, body = gql(server, "{ __schema { queryType { name } } }")
    assert status == 200 and body["data"]["__schema"]["queryType"]["name"] == "Query"


# --- REST -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ENTITIES))
def test_rest_paging_walks_every_row_exactly_once(server, world, name):
    ent = ENTITIES[name]
    expected = sorted(r[ent.primary_key] for r in world[1][name])
    items = walk_rest(server, f"{ent.rest_path}?limit=5")
    assert [i[ent.primary_key] for i in items] == expected
    assert set(items[0]) == set(ent.field_names)  # flat contract fields, no children
    # the same under /v2/, with next_page staying under /v2/
    status, _, body = call(server, "GET", ent.rest_path.replace("/v3/", "/v2/") + "?limit=3")
    assert status == 200 and body["total"] == len(expected) and body["next_page"].startswith("/v2/")


def test_rest_page_shape_limits_and_lookup(server, world):
    rows = {r["id"]: r for r in world[1]["trd_buy"]}
    status, _, body = call(server, "GET", "/v3/trd-buy?limit=5")
    assert status == 200 and body["total"] == 23 and body["limit"] == 5 and len(body["items"]) == 5
    last = body["items"][-1]["id"]
    assert body["next_page"] == f"/v3/trd-buy?page=next&limit=5&search_after={last}"
    # exactly one full page left: the last page has next_page ""
    status, _, body = call(server, "GET", f"/v3/trd-buy?limit=500&search_after={sorted(rows)[-6]}")
    assert len(body["items"]) == 5 and body["next_page"] == ""
    status, _, body = call(server, "GET", "/v3/trd-buy?limit=100000")
    assert body["limit"] == 500 and len(body["items"]) == 23 and body["next_page"] == ""
    assert call(server, "GET", "/v3/trd-buy?limit=abc")[0] == 400
    assert call(server, "GET", "/v3/trd-buy?search_after=x")[0] == 400
    one = sorted(rows)[3]
    status, _, body = call(server, "GET", f"/v3/trd-buy/{one}")
    assert status == 200 and body["id"] == one and body["number_anno"] == rows[one]["number_anno"]
    status, _, body = call(server, "GET", "/v3/trd-buy/999999")
    assert status == 404 and set(body) == ERROR_KEYS
    assert call(server, "GET", "/v3/no-such-thing")[0] == 404


def test_refs_list_and_paging(server, world):
    status, _, body = call(server, "GET", "/v3/refs")
    assert status == 200 and [i["name"] for i in body["items"]] == list(REF_TABLES)
    items = walk_rest(server, "/v3/refs/ref_trade_methods?limit=2")
    assert [i["code"] for i in items] == [r["code"] for r in world[1]["ref_trade_methods"]]
    assert call(server, "GET", "/v3/refs/ref_nope")[0] == 404


# --- journal --------------------------------------------------------------------------------------


def test_journal_date_range_is_inclusive_and_pages(server, world):
    jrows = world[1]["journal"]
    expected = [r for r in jrows if "2024-01-02" <= r["date_action"][:10] <= "2024-01-04"]
    assert len(expected) == 9
    items = walk_rest(server, "/v2/journal?date_from=2024-01-02&date_to=2024-01-04&limit=4")
    assert [(i["object_id"], i["action"]) for i in items] == [(r["object_id"], r["action"]) for r in expected]
    assert set(items[0]) == {f.name for f in JOURNAL_FIELDS}
    status, _, body = call(server, "GET", "/v2/journal?date_from=2024-01-02&date_to=2024-01-04&limit=4")
    assert body["total"] == 9 and "date_from=2024-01-02" in body["next_page"]
    for bad in ("", "?date_from=2024-01-01", "?date_from=2024-13-01&date_to=2024-01-02",
                "?date_from=2024-01-05&date_to=2024-01-02"):  # fmt: skip
        status, _, body = call(server, "GET", "/v2/journal" + bad)
        assert status == 400 and set(body) == ERROR_KEYS, bad


# --- GraphQL --------------------------------------------------------------------------------------

CONTRACT_Q = """
query($after: Int, $limit: Int) {
  Contract(limit: $limit, after: $after) {
    id contractSum lastUpdateDate
    ContractUnits { id lotId totalSum }
    TreasuryPay { id contractId payAmount }
  }
}"""


def test_graphql_paging_walks_all_rows_with_children(server, world):
    rows = world[1]
    seen, after, pages = [], None, 0
    while True:
        status, _, body = gql(server, CONTRACT_Q, {"after": after, "limit": 5})
        assert status == 200 and "errors" not in body, body
        info = body["extensions"]["pageInfo"]
        page = body["data"]["Contract"]
        assert info["totalCount"] == 12 and info["limitPage"] == 5
        seen.extend(page)
        pages += 1
        if not info["hasNextPage"]:
            break
        assert info["lastId"] == page[-1]["id"]
        after = info["lastId"]
    assert pages == 3
    assert [c["id"] for c in seen] == sorted(r["id"] for r in rows["contract"])
    units = {}
    for u in rows["contract_units"]:
        units.setdefault(u["contract_id"], []).append(u["id"])
    for c in seen:
        assert [u["id"] for u in c["ContractUnits"]] == units.get(c["id"], [])
        assert all(p["contractId"] == c["id"] for p in c["TreasuryPay"])
    assert sum(len(c["ContractUnits"]) for c in seen) == len(rows["contract_units"])


def test_graphql_nested_grandchildren_and_fragments(server, world):
    q = """
    fragment L on AppLots { id Offers { id price } }
    { TrdApp(limit: 200) { id ...on TrdApp { AppLots { ...L } } } }"""
    status, _, body = gql(server, q)
    assert status == 200 and "errors" not in body, body
    apps = body["data"]["TrdApp"]
    got_lots = [lot["id"] for a in apps for lot in a["AppLots"]]
    assert sorted(got_lots) == sorted(r["id"] for r in world[1]["app_lots"])
    got_offers = [o["id"] for a in apps for lot in a["AppLots"] for o in lot["Offers"]]
    assert sorted(got_offers) == sorted(r["id"] for r in world[1]["offers"])
    assert body["extensions"]["pageInfo"] == {"limitPage": 200, "totalCount": 9, "hasNextPage": False,
                                              "lastId": apps[-1]["id"]}  # fmt: skip


def test_graphql_children_only_selection_aliases_and_typename(server, world):
    q = "{ Plans(limit: 3) { __typename kato: PlansKato { refKatoCode } } }"
    status, _, body = gql(server, q)
    assert status == 200 and "errors" not in body, body
    plans = body["data"]["Plans"]
    assert [p["__typename"] for p in plans] == ["Plans"] * 3
    first_ids = sorted(r["id"] for r in world[1]["plans"])[:3]
    expected = [
        [k["ref_kato_code"] for k in world[1]["plans_kato"] if k["pln_point_id"] == i] for i in first_ids
    ]
    assert [[k["refKatoCode"] for k in p["kato"]] for p in plans] == expected


def test_graphql_date_filter_is_inclusive_in_both_formats(server, world):
    rows = world[1]["trd_buy"]
    lo, hi = "2024-01-02 12:00:00", "2024-01-04 12:00:00"  # both are values of 4 rows each
    expected = sorted(r["id"] for r in rows if lo <= r["last_update_date"] <= hi)
    assert len(expected) == 12
    q = "query($f: TrdBuyFiltersInput) { TrdBuy(filter: $f, limit: 200) { id lastUpdateDate } }"
    for bounds in ([lo, hi], [lo + ".000000", hi + ".000000"]):
        status, _, body = gql(server, q, {"f": {"lastUpdateDate": bounds}})
        assert status == 200 and "errors" not in body, body
        assert [r["id"] for r in body["data"]["TrdBuy"]] == expected
        assert body["extensions"]["pageInfo"]["totalCount"] == 12
    status, _, body = gql(server, q, {"f": {"lastUpdateDate": [hi]}})
    assert [r["id"] for r in body["data"]["TrdBuy"]] == sorted(
        r["id"] for r in rows if r["last_update_date"] >= hi
    )
    pick = sorted(r["id"] for r in rows)[2:4]
    status, _, body = gql(
        server, "query($f: TrdBuyFiltersInput) { TrdBuy(filter: $f) { id } }", {"f": {"id": pick}}
    )
    assert [r["id"] for r in body["data"]["TrdBuy"]] == pick
    status, _, body = gql(server, q, {"f": {"lastUpdateDate": ["yesterday"]}})
    assert body["data"]["TrdBuy"] is None and "yesterday" in body["errors"][0]["message"]


def test_graphql_limit_above_max_is_an_error(server, fresh):
    status, _, body = gql(server, "{ Lots(limit: 201) { id } }")
    assert body["data"]["Lots"] is None and "200" in body["errors"][0]["message"]
    status, _, body = gql(server, "{ Lots(limit: 200) { id } }")
    assert "errors" not in body and len(body["data"]["Lots"]) == 31
    small = fresh(max_graphql_limit=10)
    assert "errors" in gql(small, "{ Lots(limit: 11) { id } }")[2]
    status, _, body = gql(small, "{ Lots { id } }")
    assert len(body["data"]["Lots"]) == 10 and body["extensions"]["pageInfo"]["hasNextPage"] is True
    assert gql(server, "{ Lots { noSuchField } }")[0] == 400


# --- admin ----------------------------------------------------------------------------------------


def test_admin_counts_ground_truth_and_stats(server, world):
    status, _, counts = call(server, "GET", "/_sandbox/counts")
    assert status == 200
    for table, rows in world[1].items():
        assert counts[table] == len(rows), table
    status, _, truth = call(server, "GET", "/_sandbox/ground-truth")
    assert status == 200 and truth and truth[0]["object_id"] == 110
    before = call(server, "GET", "/_sandbox/stats")[2]["requests"]
    call(server, "GET", "/v3/rnu")
    assert call(server, "GET", "/_sandbox/stats")[2]["requests"] == before + 1


def test_stats_measure_how_busy_the_api_was(fresh):
    """Two requests held 0.4 s at once: busy time and concurrency are counted, admin calls are not."""
    srv = fresh(faults=[{"kind": "timeout", "seconds": 0.4, "count": 2}])
    before = call(srv, "GET", "/_sandbox/stats")[2]

    def held() -> None:
        conn = http.client.HTTPConnection(srv.url.removeprefix("http://"), timeout=10)
        conn.request("GET", "/v3/rnu", headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"})
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            conn.getresponse()
        conn.close()

    threads = [threading.Thread(target=held) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = call(srv, "GET", "/_sandbox/stats")[2]
    busy = after["api_busy_s"] - before["api_busy_s"]
    area = after["api_inflight_area_s"] - before["api_inflight_area_s"]
    assert after["api_inflight_max"] == 2
    assert 0.4 <= busy < after["uptime_s"] - before["uptime_s"] + 0.01
    assert area >= 0.75  # two requests in flight for about 0.4 s each
    idle = call(srv, "GET", "/_sandbox/stats")[2]  # admin requests leave the meter alone
    assert idle["api_busy_s"] == after["api_busy_s"]


# --- rate limit -----------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(fresh):
    srv = fresh(rate_limit=1.0)
    statuses, retry = [], None
    for _ in range(5):
        status, headers, body = call(srv, "GET", "/v3/rnu")
        statuses.append(status)
        if status == 429:
            retry = headers.get("Retry-After")
            assert set(body) == ERROR_KEYS
    assert statuses[0] == 200 and 429 in statuses
    assert retry is not None and int(retry) >= 1
    stats = call(srv, "GET", "/_sandbox/stats")[2]  # admin endpoints are not rate limited
    assert stats["rate_limited"] == statuses.count(429) and stats["http_429"] == statuses.count(429)


# --- faults ---------------------------------------------------------------------------------------


def test_fault_status_storms(fresh):
    srv = fresh(
        faults=[{"kind": "429", "path_prefix": "/v3/lots", "after_requests": 1, "count": 2, "retry_after": 3}]
    )
    got = [call(srv, "GET", "/v3/lots?limit=2") for _ in range(4)]
    assert [g[0] for g in got] == [200, 429, 429, 200]
    assert got[1][1]["Retry-After"] == "3"
    assert call(srv, "GET", "/v3/rnu")[0] == 200  # other paths untouched
    set_faults(
        srv, [{"kind": "500", "entity": "contract"}, {"kind": "503", "entity": "contract", "count": 1}]
    )
    assert gql(srv, "{ Contract(limit: 1) { id } }")[0] == 500
    status, _, body = gql(srv, "{ Contract(limit: 1) { id } }")
    assert status == 503 and set(body) == ERROR_KEYS
    assert gql(srv, "{ Contract(limit: 1) { id } }")[0] == 200
    stats = call(srv, "GET", "/_sandbox/stats")[2]
    assert stats["faults_by_kind"] == {"429": 2, "500": 1, "503": 1} and stats["faults_injected"] == 4


def test_fault_timeout_holds_then_hangs_up(fresh):
    srv = fresh(faults=[{"kind": "timeout", "seconds": 0.3}])
    conn = http.client.HTTPConnection(srv.url.removeprefix("http://"), timeout=10)
    start = time.monotonic()
    conn.request("GET", "/v3/rnu", headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        conn.getresponse()
    assert time.monotonic() - start >= 0.3
    conn.close()
    assert call(srv, "GET", "/v3/rnu")[0] == 200
    assert call(srv, "GET", "/_sandbox/stats")[2]["faults_by_kind"] == {"timeout": 1}


def test_fault_truncated_and_invalid_json(fresh):
    srv = fresh(faults=[{"kind": "truncated", "path_prefix": "/v3/subject"}])
    conn = http.client.HTTPConnection(srv.url.removeprefix("http://"), timeout=10)
    conn.request("GET", "/v3/subject", headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"})
    resp = conn.getresponse()
    assert resp.status == 200
    with pytest.raises(http.client.IncompleteRead):
        resp.read()
    conn.close()
    set_faults(srv, [{"kind": "truncated", "path_prefix": "/v3/subject", "declare_full_length": False}])
    status, _, body = call(srv, "GET", "/v3/subject")
    assert status == 200 and isinstance(body, bytes) and body.startswith(b'{"total":8')
    set_faults(srv, [{"kind": "invalid_json", "entity": "lots"}])
    status, _, body = gql(srv, "{ Lots { id } }")
    assert status == 200 and isinstance(body, bytes)
    assert isinstance(call(srv, "GET", "/v3/lots")[2], dict)  # count 1: next one is fine


def test_fault_repeat_page_and_empty_page(fresh, world):
    ids = sorted(r["id"] for r in world[1]["lots"])
    srv = fresh(faults=[{"kind": "repeat_page", "path_prefix": "/v3/lots", "after_requests": 1}])
    first = call(srv, "GET", "/v3/lots?limit=10")[2]
    second = call(srv, "GET", first["next_page"])[2]
    assert second == first  # the previous page again
    assert [i["id"] for i in walk_rest(srv, "/v3/lots?limit=10")] == ids  # then back to normal
    set_faults(srv, [{"kind": "empty_page", "entity": "lots", "after_requests": 1}])
    first = call(srv, "GET", "/v3/lots?limit=10")[2]
    empty = call(srv, "GET", first["next_page"])[2]
    assert empty["items"] == [] and empty["next_page"] == first["next_page"]
    assert [i["id"] for i in walk_rest(srv, empty["next_page"])] == ids[10:]
    set_faults(srv, [{"kind": "empty_page", "entity": "lots", "after_requests": 1}])
    q = "query($a: Int) { Lots(limit: 10, after: $a) { id } }"
    page1 = gql(srv, q)[2]
    after = page1["extensions"]["pageInfo"]["lastId"]
    body = gql(srv, q, {"a": after})[2]
    assert body["data"]["Lots"] == []
    assert (
        body["extensions"]["pageInfo"]["hasNextPage"] is True
        and body["extensions"]["pageInfo"]["lastId"] == after
    )
    assert [r["id"] for r in gql(srv, q, {"a": after})[2]["data"]["Lots"]] == ids[10:20]
    assert call(srv, "GET", "/_sandbox/stats")[2]["faults_by_kind"] == {"repeat_page": 1, "empty_page": 2}


def test_fault_type_change(fresh):
    srv = fresh(faults=[{"kind": "type_change", "entity": "trd_buy", "count": 2}])
    assert call(srv, "GET", "/v3/trd-buy?limit=3")[2]["items"][0]["total_sum"] == "12,5 млн"
    body = gql(srv, "{ TrdBuy(limit: 3) { id totalSum } }")[2]
    assert body["data"]["TrdBuy"][0]["totalSum"] == "12,5 млн"
    assert isinstance(body["data"]["TrdBuy"][1]["totalSum"], float)
    assert isinstance(call(srv, "GET", "/v3/trd-buy?limit=3")[2]["items"][0]["total_sum"], float)


def test_fault_record_changes_between_pages(fresh):
    srv = fresh(faults=[{"kind": "record_changes", "entity": "trd_buy", "after_requests": 1}])
    q = "query($a: Int) { TrdBuy(limit: 5, after: $a) { id lastUpdateDate } }"
    page1 = gql(srv, q)[2]["data"]["TrdBuy"]
    top = max(r["lastUpdateDate"] for r in page1)
    gql(srv, q, {"a": page1[-1]["id"]})
    log = call(srv, "GET", "/_sandbox/stats")[2]["fault_log"]
    assert log[-1]["kind"] == "record_changes" and log[-1]["id"] == page1[-1]["id"]
    changed = call(srv, "GET", f"/v3/trd-buy/{page1[-1]['id']}")[2]
    assert changed["last_update_date"] > top
    # the change is findable by the incremental filter and journalled
    q2 = "query($f: TrdBuyFiltersInput) { TrdBuy(filter: $f) { id } }"
    body = gql(srv, q2, {"f": {"lastUpdateDate": [changed["last_update_date"]]}})[2]
    assert [r["id"] for r in body["data"]["TrdBuy"]] == [page1[-1]["id"]]
    day = changed["last_update_date"][:10]
    journal = call(srv, "GET", f"/v2/journal?date_from={day}&date_to={day}")[2]["items"]
    assert {"action": "U", "object_id": page1[-1]["id"]}.items() <= journal[-1].items()


def test_internal_error_answers_500_in_the_error_shape_and_keeps_serving(fresh):
    srv = fresh()

    def broken() -> list:
        raise ZeroDivisionError("boom")

    srv.ground_truth = broken  # a failing world function behind an endpoint
    status, _, body = call(srv, "GET", "/_sandbox/ground-truth")
    assert status == 500 and set(body) == ERROR_KEYS and "boom" in body["message"]
    assert call(srv, "GET", "/v3/rnu")[0] == 200
    assert srv.stats()["internal_errors"] == 1


def test_bad_fault_plan_is_rejected(server):
    status, _, body = call(server, "POST", "/_sandbox/faults", [{"kind": "meteor"}])
    assert status == 400 and "meteor" in body["message"]
    status, _, body = call(server, "POST", "/_sandbox/faults", [{"kind": "500", "entity": "nope"}])
    assert status == 400 and "nope" in body["message"]


# --- against the real world generator --------------------------------------------


def _generated_world(tmp_path: Path) -> Path:
    from sandbox.world import build_world

    return build_world(tmp_path / "w.duckdb", seed=7, scale=0.05)


def _all_fields(fields, children) -> str:
    out = " ".join(f.camel for f in fields)
    for child in children:
        out += f" {child.graphql_name} {{ {_all_fields(child.fields, child.children)} }}"
    return out


def test_generated_world_serves_every_entity_over_graphql_and_rest(tmp_path):
    path = _generated_world(tmp_path)
    with run_sandbox(path) as srv:
        counts = call(srv, "GET", "/_sandbox/counts")[2]
        for ent in ENTITIES.values():
            q = f"query($a: Int) {{ {ent.graphql_root}(limit: 200, after: $a) {{ {_all_fields(ent.fields, ent.children)} }} }}"
            rows, after, child_rows = 0, None, Counter()
            while True:
                status, _, body = gql(srv, q, {"a": after})
                assert status == 200 and "errors" not in body, (ent.name, body.get("errors"))
                page = body["data"][ent.graphql_root]
                rows += len(page)
                stack = [(c, r) for r in page for c in ent.children]
                while stack:
                    child, parent = stack.pop()
                    child_rows[child.table] += len(parent[child.graphql_name])
                    stack.extend((g, r) for r in parent[child.graphql_name] for g in child.children)
                info = body["extensions"]["pageInfo"]
                if not info["hasNextPage"]:
                    break
                after = info["lastId"]
            assert rows == counts[ent.name] == info["totalCount"], ent.name
            for table, n in child_rows.items():
                assert n == counts[table], table
            assert len(walk_rest(srv, f"{ent.rest_path}?limit=500")) == counts[ent.name]
        status, _, truth = call(srv, "GET", "/_sandbox/ground-truth")
        assert status == 200 and isinstance(truth, list) and truth, truth


def test_advance_on_generated_world_is_served_and_journalled(tmp_path):
    path = _generated_world(tmp_path)
    with run_sandbox(path) as srv:
        before = call(srv, "GET", "/_sandbox/counts")[2]
        assert call(srv, "GET", "/v3/trd-buy?limit=1")[2]["total"] == before["trd_buy"]  # caches the total
        status, _, summary = call(srv, "POST", "/_sandbox/advance?epochs=1")
        assert status == 200 and isinstance(summary, dict), summary
        assert any(sum(v.values()) for v in summary.values()), f"advance_world changed nothing: {summary}"
        after = call(srv, "GET", "/_sandbox/counts")[2]
        assert call(srv, "GET", "/v3/trd-buy?limit=1")[2]["total"] == after["trd_buy"]  # cache invalidated
        body = gql(srv, "{ TrdBuy(limit: 1) { id } }")[2]
        assert body["extensions"]["pageInfo"]["totalCount"] == after["trd_buy"]
        assert after["journal"] > before["journal"]
        journal = walk_rest(srv, "/v2/journal?date_from=2000-01-01&date_to=2100-12-31")
        assert len(journal) == after["journal"]
        actions = {i["action"] for i in journal}
        assert actions <= {"U", "D"}
        assert ("D" in actions) == any(v.get("deleted", 0) for v in summary.values())
        assert call(srv, "POST", "/_sandbox/advance?epochs=0")[0] == 400


# --- CLI ------------------------------------------------------------------------------------------


def test_cli_serve_prints_url_and_serves_until_interrupted(world, tmp_path):
    import signal
    import subprocess
    import sys

    copy = tmp_path / "cli.duckdb"
    shutil.copy(world[0], copy)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", "--world", str(copy), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        url = next(line.split()[-1] for line in lines if line.startswith("url:"))
        assert any(line.strip() == f"token: {SANDBOX_TOKEN}" for line in lines)
        req = urllib.request.Request(url + "/v3/rnu", headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert json.loads(resp.read())["total"] == N_ROWS["rnu"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # the server let go of the file: it opens read-write again
    duckdb.connect(str(copy)).close()


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["build", "--scale", "-1"], 2, "--scale: must be > 0"),
        (["serve", "--port", "70000"], 2, "--port: must be between 0 and 65535"),
        (["serve", "--world", "/nonexistent/w.duckdb"], 1, "does not exist"),
        (["advance", "--url", "http://127.0.0.1:9", "--epochs", "0"], 2, "--epochs: must be >= 1"),
    ],
)
def test_cli_bad_input_is_a_clear_error_without_traceback(argv, code, needle):
    import subprocess
    import sys

    res = subprocess.run(
        [sys.executable, "-m", "sandbox", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert res.returncode == code and needle in res.stderr and "Traceback" not in res.stderr
