"""The OCDS JSON export: validates with libcoveocds (offline) and is byte-identical across runs."""

from __future__ import annotations

import copy
import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from publish.ocds_json import read_releases, release_package, validate_release_package, write_release_packages
from tests.helpers import TEST_PREFIX

#: slow: needs the dbt-built scale-1 warehouse
pytestmark = pytest.mark.slow

META = {
    "publisher_name": "goszakup open data (test)",
    "published_date": "2024-06-01T00:00:00Z",
    "uri_base": "https://example.org/goszakup/ocds/",
}


@pytest.fixture(scope="module")
def warehouse_db(built_warehouse, tmp_path_factory: pytest.TempPathFactory):
    """The session's dbt-built warehouse (ingested over HTTP), copied for this module."""
    work = tmp_path_factory.mktemp("ocds_json")
    db = work / "goszakup.duckdb"
    shutil.copyfile(built_warehouse[0], db)
    yield db
    shutil.rmtree(work, ignore_errors=True)


def export(db: Path, out: Path, prefix: str = TEST_PREFIX) -> list[Path]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return write_release_packages(con, out, ocid_prefix=prefix, **META)
    finally:
        con.close()


def test_export_validates_and_is_deterministic(warehouse_db: Path, tmp_path: Path) -> None:
    first = export(warehouse_db, tmp_path / "a")
    second = export(warehouse_db, tmp_path / "b")
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name

    data = [p for p in first if p.name.endswith(".jsonl.gz")]
    assert data and all(p.name.startswith("releases_") for p in data)
    for p in data:
        header = p.read_bytes()[:10]
        assert header[3] == 0, "no file name or other optional gzip header fields"
        assert header[4:8] == b"\0\0\0\0", "gzip mtime must be 0"

    con = duckdb.connect(str(warehouse_db), read_only=True)
    try:
        expected = con.execute("select count(*) from ocds.releases").fetchone()[0]
    finally:
        con.close()
    releases = [r for p in data for r in read_releases(p)]
    assert len(releases) == expected
    ocids = [r["ocid"] for r in releases]
    assert len(set(ocids)) == len(ocids)
    assert all(r["ocid"].startswith(TEST_PREFIX + "-") for r in releases)
    # lines are sorted-key JSON and stable order
    with gzip.open(data[0], "rt", encoding="utf-8") as f:
        line = f.readline()
    assert (
        line == json.dumps(json.loads(line), ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
    )

    meta = json.loads((data[0].with_name(data[0].name.replace(".jsonl.gz", ".package.json"))).read_text())
    assert meta["uri"] == "https://example.org/goszakup/ocds/" + data[0].name and meta["version"] == "1.1"
    package = release_package(
        releases,
        publisher_name=meta["publisher"]["name"],
        published_date=meta["publishedDate"],
        uri=meta["uri"],
    )
    result = validate_release_package(package)
    assert result["validation_errors"] == []
    assert result["count"] == expected

    # what the export contains, checked against the OCDS shape
    with_contracts = [r for r in releases if r.get("contracts")]
    assert with_contracts
    r = with_contracts[0]
    party_ids = {p["id"] for p in r["parties"]}
    assert r["buyer"]["id"] in party_ids
    award_ids = {a["id"] for a in r["awards"]}
    assert all(c["awardID"] in award_ids for c in r["contracts"])
    assert r["tender"]["procurementMethod"] in {"open", "selective", "limited", "direct"}
    assert r["tender"]["procurementMethodDetails"]
    assert r["contracts"][0]["value"]["currency"] and "amountNet" in r["contracts"][0]["value"]
    assert r["date"].endswith("Z") and r["tag"] == ["compiled"]


def test_validator_reports_schema_errors(warehouse_db: Path, tmp_path: Path) -> None:
    """The offline libcoveocds set-up really validates: broken releases give errors."""
    data = [p for p in export(warehouse_db, tmp_path) if p.name.endswith(".jsonl.gz")]
    release = next(read_releases(data[0]))
    broken = copy.deepcopy(release)
    del broken["date"]
    broken["tender"]["procurementMethod"] = "by-phone"
    broken["tender"]["numberOfTenderers"] = "three"
    package = release_package(
        [release, broken],
        publisher_name="x",
        published_date="2024-06-01T00:00:00Z",
        uri="https://example.org/p",
    )
    result = validate_release_package(package)
    text = json.dumps(result["validation_errors"], ensure_ascii=False, default=str)
    assert len(result["validation_errors"]) >= 2
    assert "'date' is missing" in text and "three" in text
    # a closed codelist violation is reported apart from the structural errors
    closed = json.dumps(result["additional_closed_codelist_values"], ensure_ascii=False, default=str)
    assert "by-phone" in closed


def test_wrong_prefix_is_refused(warehouse_db: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ocid prefix"):
        export(warehouse_db, tmp_path, prefix="ocds-other0-goszakup")
