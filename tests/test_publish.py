"""Publishing: immutable, verifiable, reproducible versions (issue 6).

Every test builds a small synthetic warehouse (real DuckDB file, schemas ocds / risk / quarantine with
list, JSON and timestamp columns) and publishes it into a temporary root with the real code.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import subprocess
import sys
import types
from pathlib import Path

import duckdb
import pytest

from pipelines.settings import Settings

# submodule imports: they work whether ``publish`` resolves as a package or, through the editable
# install made before publish/__init__.py existed, as a namespace package
from publish import snapshot, versions
from publish.__main__ import main as cli
from publish.snapshot import publish_version
from publish.verify import verify_version

CLOCK = lambda: dt.datetime(2025, 3, 14, 9, 26, 53, tzinfo=dt.UTC)  # noqa: E731
CLOCK2 = lambda: dt.datetime(2025, 3, 15, 8, 0, 0, tzinfo=dt.UTC)  # noqa: E731
FRICTIONLESS = Path(sys.executable).parent / "frictionless"


def make_warehouse(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA ocds; CREATE SCHEMA risk; CREATE SCHEMA quarantine; CREATE SCHEMA raw")
    # dlt's load table: the last successful load time is the OCDS publishedDate by default
    con.execute(
        "CREATE TABLE raw._dlt_loads AS SELECT '1710000000.1' AS load_id, 'goszakup' AS schema_name, "
        "0 AS status, TIMESTAMPTZ '2025-03-13 22:00:00+00' AS inserted_at"
    )
    con.execute(
        """
        CREATE TABLE ocds.tenders AS
        SELECT 'ocds-xxxxxx-goszakup-' || i AS ocid,
               'T' || lpad(i::VARCHAR, 4, '0') AS id,
               CASE WHEN i % 3 = 0 THEN 'direct' ELSE 'open' END AS procurement_method,
               TIMESTAMP '2023-01-01 09:00:00' + to_days((i * 37)::INT) AS date_published,
               ['Астана', 'Алматы', 'Шымкент'][1 + i % 3] AS region,
               (i * 1000.5)::DECIMAL(18, 2) AS value_amount,
               to_json(['item-' || i, 'item-x']) AS items
        FROM range(20) t(i)
        """
    )
    con.execute(
        """
        CREATE TABLE ocds.awards AS
        SELECT 'A' || i AS id, 'ocds-xxxxxx-goszakup-' || i AS ocid,
               (TIMESTAMP '2023-02-01 10:00:00' + to_days(i::INT))::TIMESTAMPTZ AS date,
               ['BIN' || i, 'BIN' || (i + 1)] AS suppliers, i % 2 = 0 AS has_contract
        FROM range(10) t(i)
        """
    )
    con.execute(
        """
        CREATE TABLE risk.process_flags AS
        SELECT 'ocds-xxxxxx-goszakup-' || (i % 7) AS ocid, 'F' || (i % 4) AS flag_code,
               CASE WHEN i % 2 = 0 THEN 'flagged' ELSE 'clear' END AS status,
               i * 0.5 AS value, 3.0 AS threshold, to_json({'n': i}) AS evidence
        FROM range(12) t(i)
        """
    )
    con.execute(
        """
        CREATE TABLE risk.buyer_scores AS
        SELECT 'B' || i AS buyer_id, 'Buyer ' || i AS buyer_name, (i * 7 % 10) / 10.0 AS score
        FROM range(8) t(i)
        """
    )
    con.execute(
        """
        CREATE TABLE risk.headline_metrics AS
        SELECT 2022 + i % 3 AS year, ['Астана', 'Алматы'][1 + i % 2] AS region,
               (i % 5) / 5.0 AS single_source_share_count
        FROM range(6) t(i)
        """
    )
    con.execute(
        """
        CREATE TABLE quarantine.refused AS
        SELECT 'trd_buy' AS entity, i::VARCHAR AS record_id, 'lastUpdateDate' AS field,
               'not a datetime' AS reason, to_json({'id': i}) AS record
        FROM range(3) t(i)
        """
    )
    con.close()
    return path


def dbt_manifest(path: Path) -> Path:
    manifest = {
        "nodes": {
            "model.goszakup.tenders": {
                "resource_type": "model",
                "name": "tenders",
                "alias": "tenders",
                "schema": "ocds",
                "description": "One row per tender (OCDS tender object).",
                "columns": {
                    "ocid": {"description": "Open Contracting ID", "constraints": []},
                    "id": {"description": "Tender id (trd_buy number)", "constraints": []},
                },
                "constraints": [{"type": "primary_key", "columns": ["ocid"]}],
            }
        }
    }
    path.write_text(json.dumps(manifest), encoding="utf-8")
    return path


def _fake_write_release_packages(con, out_dir, *, publisher_name, published_date, uri_base, ocid_prefix):
    """Stand-in for publish/ocds_json.py (the dbt helper's), so these tests do not depend on its tables."""
    rows = con.execute("SELECT year(date_published), ocid, id FROM ocds.tenders ORDER BY ocid").fetchall()
    paths = []
    for year in sorted({r[0] for r in rows}):
        path = Path(out_dir) / f"releases_{year}.jsonl.gz"
        with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
            for _, ocid, tid in (r for r in rows if r[0] == year):
                pkg = {
                    "uri": f"{uri_base}/{ocid}",
                    "publishedDate": published_date,
                    "version": "1.1",
                    "publisher": {"name": publisher_name},
                    "releases": [{"ocid": ocid, "id": tid}],
                }
                gz.write((json.dumps(pkg, sort_keys=True) + "\n").encode())
        paths.append(path)
    return paths


@pytest.fixture(autouse=True)
def fake_ocds_json(monkeypatch):
    module = types.ModuleType("publish.ocds_json")
    module.write_release_packages = _fake_write_release_packages
    monkeypatch.setitem(sys.modules, "publish.ocds_json", module)
    return module


@pytest.fixture()
def settings() -> Settings:
    return Settings(
        _env_file=None, token="tok-SECRET-123", api_base_url="http://127.0.0.1:9", dataset_version=None
    )


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    return make_warehouse(tmp_path / "wh.duckdb")


def publish(wh: Path, root: Path, settings: Settings, *, passed: bool = True, clock=CLOCK, **kw):
    return publish_version(
        wh,
        root,
        checks_passed=passed,
        checks_summary={"success": passed, "failed_expectations": 0 if passed else 2},
        options=settings.publish_options(),
        clock=clock,
        **kw,
    )


def sums(version_dir: Path) -> dict[str, str]:
    out = {}
    for line in (version_dir / "SHA256SUMS").read_text().splitlines():
        digest, rel = line.split("  ", 1)
        out[rel] = digest
    return out


def modify(wh: Path, *sql: str) -> None:
    con = duckdb.connect(str(wh))
    for s in sql:
        con.execute(s)
    con.close()


def test_two_builds_identical_and_rebuild_is_noop(tmp_path, warehouse, settings):
    a = publish(warehouse, tmp_path / "a", settings)
    b = publish(warehouse, tmp_path / "b", settings)
    assert a.published and b.published and a.latest_moved
    assert a.version == b.version and a.version.startswith("2025-03-14-")
    sa, sb = sums(a.path), sums(b.path)
    data = [p for p in sa if p.endswith((".parquet", ".csv.gz"))]
    assert len(data) == 2 * 6  # 6 tables, Parquet + CSV each
    data += [p for p in sa if p.startswith("ocds-json/")]
    assert len(data) == 12 + 2  # releases_2023 and releases_2024
    assert {p: sa[p] for p in data} == {p: sb[p] for p in data}
    # charts are deterministic too, and with a pinned clock so is every other file
    assert sa == sb
    assert any(p.startswith("summary/") and p.endswith(".png") for p in sa)
    # the name is the date + a hash over the (path, sha256) list of the data files
    assert a.version.endswith(versions.content_hash([(p, sa[p]) for p in data])[:8])
    # gzip header: no file name, mtime 0
    head = (a.path / "ocds/tenders.csv.gz").read_bytes()[:10]
    assert head[3] == 0 and head[4:8] == b"\0\0\0\0"

    again = publish(warehouse, tmp_path / "a", settings)
    assert not again.published and not again.latest_moved and again.version == a.version
    later = publish(warehouse, tmp_path / "a", settings, clock=CLOCK2)  # next day, same raw data
    assert not later.published and "unchanged" in later.reason
    with gzip.open(a.path / "ocds-json/releases_2024.jsonl.gz", "rt") as f:
        assert json.loads(f.readline())["publishedDate"] == "2025-03-13T22:00:00Z"  # last dlt load
    index = versions.load_index(tmp_path / "a")
    assert [e["version"] for e in index["versions"]] == [a.version]


def test_contents_types_keys_and_no_token(tmp_path, warehouse, settings):
    man = dbt_manifest(tmp_path / "manifest.json")
    res = publish(
        warehouse,
        tmp_path / "root",
        settings,
        dbt_manifest=man,
        source={
            "extraction_start": "2023-01-01 00:00:00",
            "extraction_end": "2025-03-14T00:00:00Z",
            "api_token": "x",
        },
    )
    assert res.rows == {
        "ocds.awards": 10,
        "ocds.tenders": 20,
        "risk.buyer_scores": 8,
        "risk.headline_metrics": 6,
        "risk.process_flags": 12,
        "quarantine.refused": 3,
    }
    dp = json.loads((res.path / "datapackage.json").read_text())
    assert dp["version"] == "1.0.0" and dp["licenses"][0]["name"] == "CC-BY-4.0"
    res_by = {r["name"]: r for r in dp["resources"]}
    tenders = res_by["ocds-tenders"]
    assert tenders["compression"] == "gz" and tenders["hash"].startswith("sha256:")
    assert tenders["schema"]["primaryKey"] == ["ocid"]  # from the dbt constraint
    fields = {f["name"]: f for f in tenders["schema"]["fields"]}
    assert fields["id"]["description"] == "Tender id (trd_buy number)"
    assert fields["date_published"]["type"] == "datetime"
    assert fields["items"]["type"] == "array" and fields["value_amount"]["type"] == "number"
    assert res_by["ocds-awards"]["schema"]["primaryKey"] == ["id"]  # default rule
    afields = {f["name"]: f["type"] for f in res_by["ocds-awards"]["schema"]["fields"]}
    assert afields == {
        "id": "string",
        "ocid": "string",
        "date": "datetime",
        "suppliers": "array",
        "has_contract": "boolean",
    }
    assert "primaryKey" not in res_by["risk-process_flags"]["schema"]  # no unique key column
    assert res_by["ocds-tenders-parquet"]["format"] == "parquet"
    assert res_by["ocds-json-releases-2023"]["type"] == "file"
    assert res_by["ocds-json-releases-2023"]["path"] == "ocds-json/releases_2023.jsonl.gz"
    # Parquet rows are ordered by the key; CSV rows the same
    con = duckdb.connect()
    ids = [
        r[0]
        for r in con.execute(f"SELECT ocid FROM read_parquet('{res.path}/ocds/tenders.parquet')").fetchall()
    ]
    csv_ids = [
        r[0] for r in con.execute(f"SELECT ocid FROM read_csv('{res.path}/ocds/tenders.csv.gz')").fetchall()
    ]
    assert ids == sorted(ids) == csv_ids
    with gzip.open(res.path / "ocds-json/releases_2023.jsonl.gz", "rt") as f:
        assert json.loads(f.readline())["publishedDate"] == "2025-03-14T00:00:00Z"  # extraction_end
    manifest = json.loads((res.path / "manifest.json").read_text())
    assert manifest["source"]["extraction_start"] == "2023-01-01 00:00:00"
    assert manifest["source"]["api_base_url"] == "http://127.0.0.1:9"
    assert "api_token" not in manifest["source"]
    assert manifest["dependencies"]["duckdb"] == duckdb.__version__
    for p in res.path.rglob("*"):
        if p.is_file():
            assert b"tok-SECRET-123" not in p.read_bytes(), p


def test_frictionless_validate_passes(tmp_path, warehouse, settings):
    res = publish(warehouse, tmp_path / "root", settings, dbt_manifest=dbt_manifest(tmp_path / "m.json"))
    proc = subprocess.run(
        [str(FRICTIONLESS), "validate", "datapackage.json"],
        cwd=res.path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "INVALID" not in proc.stdout
    # and it does catch a corrupted CSV (so the check above means something)
    target = res.path / "ocds/awards.csv.gz"
    target.write_bytes(target.read_bytes()[:-3] + b"xyz")
    bad = subprocess.run(
        [str(FRICTIONLESS), "validate", "datapackage.json"],
        cwd=res.path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode != 0


def test_verify_names_the_changed_file(tmp_path, warehouse, settings, capsys):
    res = publish(warehouse, tmp_path / "root", settings)
    assert verify_version(res.path) == []
    assert cli(["verify", str(res.path)]) == 0
    assert capsys.readouterr().out.strip() == "OK"

    target = res.path / "risk/buyer_scores.parquet"
    original = target.read_bytes()
    flipped = bytearray(original)
    flipped[len(flipped) // 2] ^= 0x01
    target.write_bytes(bytes(flipped))
    problems = verify_version(res.path)
    assert problems and all("risk/buyer_scores.parquet" in p for p in problems)
    assert any("sha256" in p for p in problems)
    assert cli(["verify", str(res.path)]) == 1
    assert "risk/buyer_scores.parquet" in capsys.readouterr().out
    target.write_bytes(original)

    (res.path / "ocds/extra.csv").write_text("a\n")
    (res.path / "summary.md").unlink()
    problems = verify_version(res.path)
    assert "ocds/extra.csv: unexpected file (not listed in manifest.json)" in problems
    assert "summary.md: missing" in problems


def test_failed_checks_never_move_latest(tmp_path, warehouse, settings, capsys):
    root = tmp_path / "root"
    v1 = publish(warehouse, root, settings)
    modify(warehouse, "UPDATE risk.buyer_scores SET score = 0.99 WHERE buyer_id = 'B1'")
    bad = publish(warehouse, root, settings, passed=False)
    assert bad.published and not bad.latest_moved
    assert bad.path == root / "failed" / bad.version
    index = versions.load_index(root)
    assert index["latest"] == v1.version
    assert [(e["version"], e["checks_passed"]) for e in index["versions"]] == [
        (v1.version, True),
        (bad.version, False),
    ]
    assert json.loads((bad.path / "datapackage.json").read_text())["version"] == "1.1.0-failed"
    assert verify_version(bad.path) == []
    assert bad.version not in (root / "CHANGELOG.md").read_text()
    assert cli(["list", "--root", str(root)]) == 0
    assert f"latest: {v1.version}" in capsys.readouterr().out

    good = publish(warehouse, root, settings)  # same data, checks now pass
    assert good.published and good.latest_moved and good.path == root / good.version
    assert versions.load_index(root)["latest"] == good.version
    assert json.loads((good.path / "datapackage.json").read_text())["version"] == "1.1.0"


@pytest.mark.parametrize("step", ["write_table", "fsync_tree"])
def test_crash_mid_publish_leaves_previous_state(tmp_path, warehouse, settings, monkeypatch, step):
    root = tmp_path / "root"
    v1 = publish(warehouse, root, settings)
    before = {p: (root / p).read_bytes() for p in ("versions.json", "CHANGELOG.md")}
    # two changed tables: unchanged ones are linked from v1, so write_table runs for these two only
    modify(
        warehouse, "DELETE FROM ocds.tenders WHERE id = 'T0001'", "DELETE FROM ocds.awards WHERE id = 'A1'"
    )

    calls = {"n": 0}
    real = getattr(snapshot if step == "write_table" else versions, step)

    def boom(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2 or step == "fsync_tree":
            raise OSError("disk on fire")
        return real(*args, **kwargs)

    with monkeypatch.context() as m, pytest.raises(OSError, match="disk on fire"):
        m.setattr(snapshot if step == "write_table" else versions, step, boom)
        publish(warehouse, root, settings)

    assert {p: (root / p).read_bytes() for p in before} == before
    visible = sorted(p.name for p in root.iterdir() if not p.name.startswith("."))
    assert visible == sorted([v1.version, "versions.json", "CHANGELOG.md"])
    assert verify_version(v1.path) == []

    # a hard crash (kill -9) leaves a staging folder: ignored by list, removed at the next start
    (root / ".staging-deadbeef").mkdir()
    (root / ".staging-deadbeef/ocds").mkdir()
    v2 = publish(warehouse, root, settings)
    assert v2.published and v2.latest_moved
    assert not list(root.glob(".staging-*"))
    assert versions.load_index(root)["latest"] == v2.version


def test_crash_after_rename_is_recovered(tmp_path, warehouse, settings, monkeypatch):
    root = tmp_path / "root"
    v1 = publish(warehouse, root, settings)
    modify(warehouse, "DELETE FROM ocds.tenders WHERE id = 'T0001'")

    def boom(*a, **k):
        raise OSError("power cut")

    with monkeypatch.context() as m, pytest.raises(OSError, match="power cut"):
        m.setattr(versions, "save_index", boom)
        publish(warehouse, root, settings)
    assert len(list(root.glob("2025-*"))) == 2  # the new folder is complete, just not indexed yet
    assert versions.load_index(root)["latest"] == v1.version  # pointer intact
    again = publish(warehouse, root, settings)  # same data: the complete folder gets indexed
    assert not again.published and again.latest_moved
    assert versions.load_index(root)["latest"] == again.version != v1.version


def test_semver_minor_for_added_column_major_for_dropped(tmp_path, warehouse, settings):
    root = tmp_path / "root"
    publish(warehouse, root, settings)
    modify(warehouse, "ALTER TABLE ocds.awards ADD COLUMN status VARCHAR DEFAULT 'active'")
    v2 = publish(warehouse, root, settings)
    ch2 = json.loads((v2.path / "changes.json").read_text())
    assert ch2["semver"] == "1.1.0" and ch2["semver_bump"] == "minor"
    assert "ocds.awards.status added (VARCHAR)" in ch2["schema"]["additive"]
    assert ch2["tables"]["ocds.awards"] == {
        "added": 0,
        "changed": 0,
        "removed": 0,
    }  # shared columns unchanged

    modify(warehouse, "ALTER TABLE ocds.tenders DROP COLUMN region")
    v3 = publish(warehouse, root, settings)
    ch3 = json.loads((v3.path / "changes.json").read_text())
    assert ch3["semver"] == "2.0.0" and ch3["semver_bump"] == "major"
    assert ch3["schema"]["breaking"] == ["ocds.tenders.region removed"]
    assert json.loads((v3.path / "datapackage.json").read_text())["version"] == "2.0.0"

    modify(warehouse, "ALTER TABLE risk.buyer_scores ALTER score TYPE VARCHAR")
    v4 = publish(warehouse, root, settings)
    ch4 = json.loads((v4.path / "changes.json").read_text())
    assert ch4["semver"] == "3.0.0"
    assert any("risk.buyer_scores.score retyped" in b for b in ch4["schema"]["breaking"])

    pinned = Settings(_env_file=None, dataset_version="7.0.1")
    modify(warehouse, "DELETE FROM quarantine.refused WHERE record_id = '0'")
    v5 = publish(warehouse, root, pinned)
    assert json.loads((v5.path / "datapackage.json").read_text())["version"] == "7.0.1"


def test_changelog_counts_added_changed_removed(tmp_path, warehouse, settings):
    root = tmp_path / "root"
    v1 = publish(warehouse, root, settings)
    modify(
        warehouse,
        "DELETE FROM ocds.tenders WHERE id = 'T0005'",
        "UPDATE ocds.tenders SET value_amount = 1 WHERE id IN ('T0001', 'T0002')",
        "INSERT INTO ocds.tenders SELECT 'ocds-new-' || i, 'N' || i, 'open', TIMESTAMP '2024-05-05 10:00:00', "
        "'Астана', 5.00, to_json(['n']) FROM range(3) t(i)",
        "DELETE FROM risk.process_flags WHERE ocid = 'ocds-xxxxxx-goszakup-0' AND flag_code = 'F0'",
        "INSERT INTO risk.process_flags VALUES ('ocds-new-0', 'F9', 'flagged', 1.0, 3.0, to_json({'n': 99}))",
    )
    v2 = publish(warehouse, root, settings)
    ch = json.loads((v2.path / "changes.json").read_text())
    assert ch["previous_version"] == v1.version and ch["semver"] == "1.1.0"
    assert ch["tables"]["ocds.tenders"] == {"added": 3, "changed": 2, "removed": 1}
    assert ch["tables"]["risk.process_flags"] == {"added": 1, "changed": 0, "removed": 1}
    assert ch["tables"]["ocds.awards"] == {"added": 0, "changed": 0, "removed": 0}

    log = (root / "CHANGELOG.md").read_text()
    assert log.index(v2.version) < log.index(v1.version)  # newest first
    assert "| ocds.tenders | 3 | 2 | 1 |" in log
    assert "| risk.process_flags | 1 | 0 | 1 |" in log


def test_summary_charts_and_missing_sources(tmp_path, warehouse, settings):
    res = publish(warehouse, tmp_path / "root", settings)
    md = (res.path / "summary.md").read_text()
    pngs = sorted(p.name for p in (res.path / "summary").glob("*.png"))
    assert pngs == ["flags_0.png", "single_source_0.png", "single_source_1.png", "top_buyers_0.png"]
    for name in pngs:
        assert f"](summary/{name})" in md
        assert (res.path / "summary" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'src="summary/top_buyers_0.png"' in (res.path / "summary.html").read_text()

    modify(warehouse, "DROP SCHEMA risk CASCADE")
    bare = publish(warehouse, tmp_path / "bare", settings)
    md = (bare.path / "summary.md").read_text()
    assert "left out: needs risk.process_flags" in md and "left out: needs risk.buyer_scores" in md
    # without risk.headline_metrics the share comes from ocds.tenders
    assert "Single-source (direct) share of tenders by year" in md
    assert verify_version(bare.path) == []
