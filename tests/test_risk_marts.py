"""The risk marts on a real ingested warehouse: a real ``dbt build`` (data tests and unit tests),
the planted ground truth found (recall >= 0.95, precision >= 0.9 per flag), every flag present with
its status and evidence, and rebuilds byte-identical.

The raw layer is the session's HTTP ingestion of the scale-1 sandbox world (``warehouse``), copied.
The layers below the marts are built without their tests (``tests/test_dbt_build.py`` tests them);
the risk layer is built with ``dbt build``: its models, data tests and unit tests.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.helpers import run_dbt
from tools import risk_scoring

#: slow: dbt builds of the risk marts on the scale-1 world
pytestmark = pytest.mark.slow

RISK_MARTS = [
    "buyer_scores",
    "debarment_register",
    "flag_catalogue",
    "headline_metrics",
    "organisation_flags",
    "organisation_register",
    "process_context",
    "process_flags",
    "process_scores",
    "risk_meta",
    "supplier_scores",
]
STATUSES = {"flagged", "not_flagged", "not_computable"}


@pytest.fixture(scope="module")
def risk_build(built_warehouse, tmp_path_factory: pytest.TempPathFactory):
    """The session's full ``dbt build`` (models, seeds, tests, unit tests), copied for this module."""
    built_db, result, built_work = built_warehouse
    work = tmp_path_factory.mktemp("risk_marts")
    db = work / "goszakup.duckdb"
    shutil.copyfile(built_db, db)
    shutil.copytree(built_work / "target", work / "target")
    yield db, result, work
    shutil.rmtree(work, ignore_errors=True)


def _table_digests(db: Path) -> dict[str, str]:
    """md5 of each risk mart's rows as text, in a total order (what a snapshot would hold)."""
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return {
            t: con.execute(
                f"SELECT md5(coalesce(string_agg(r::VARCHAR, chr(10) ORDER BY r::VARCHAR), '')) FROM risk.{t} r"
            ).fetchone()[0]
            for t in RISK_MARTS
        }


def test_risk_build_passes_with_unit_tests(risk_build) -> None:
    _, result, work = risk_build
    assert result.returncode == 0, result.stdout[-6000:]
    run = json.loads((work / "target" / "run_results.json").read_text())
    kinds = {r["unique_id"].split(".")[0] for r in run["results"]}
    assert {"model", "test", "unit_test", "seed"} <= kinds
    assert all(r["status"] in ("success", "pass") for r in run["results"])
    # every flag model has at least one unit test on hand-made cases
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    tested = {u["model"] for u in manifest["unit_tests"].values()}
    flag_models = {
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model"
        and n["name"].startswith(("int_risk__flag_", "int_risk__org_flag_"))
        and n["name"] != "int_risk__flag_items"
    }
    assert len(flag_models) >= 30
    assert flag_models - tested == set()
    assert {"process_flags", "organisation_flags", "process_scores", "headline_metrics"} <= tested


def test_planted_cases_found(risk_build, world_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, _, _ = risk_build
    scores = risk_scoring.score(db, world_path)
    patterns = {s.check.pattern for s in scores}
    # every pattern the sandbox plants is scored (bid rotation included)
    from sandbox.patterns import PATTERNS

    assert set(PATTERNS) == patterns
    for s in scores:
        assert s.planted > 0, s.check.label
        assert s.recall >= risk_scoring.MIN_RECALL, (s.check.label, s.missed)
        assert s.precision >= risk_scoring.MIN_PRECISION, (s.check.label, s.false_alarms)
    # the command prints the table and exits 0
    assert risk_scoring.main(["--warehouse", str(db), "--world", str(world_path)]) == 0
    out = capsys.readouterr().out
    assert "BID_ROTATION" in out and "precision" in out


def test_every_flag_has_status_and_evidence(risk_build) -> None:
    db, _, _ = risk_build
    with duckdb.connect(str(db), read_only=True) as con:
        catalogue = con.execute(
            "SELECT flag_code, process_grain, organisation_roles, rolled_up_roles, object_type, parameters "
            "FROM risk.flag_catalogue"
        ).fetchall()
        assert len(catalogue) >= 28
        process = {
            (code, status)
            for code, status in con.execute(
                "SELECT DISTINCT flag_code, status FROM risk.process_flags"
            ).fetchall()
        }
        orgs = {
            (code, role, status)
            for code, role, status in con.execute(
                "SELECT DISTINCT flag_code, role, status FROM risk.organisation_flags"
            ).fetchall()
        }
        assert {s for _, s in process} <= STATUSES and {s for _, _, s in orgs} <= STATUSES
        for code, process_grain, roles, rolled, object_type, parameters in catalogue:
            assert isinstance(json.loads(parameters), dict), code
            if process_grain:
                assert any(c == code for c, _ in process), f"{code} has no row in risk.process_flags"
                assert object_type in ("process", "lot", "contract", "item"), code
            for role in [*roles, *rolled]:
                assert any(c == code and r == role for c, r, _ in orgs), f"{code}/{role} missing"
        # a flagged row cites its evidence: the ids of its objects, and their measurements
        id_column = {"lot": "lot_ids", "contract": "contract_ids", "item": "contract_ids"}
        for code, process_grain, _, _, object_type, _ in catalogue:
            if not process_grain:
                continue
            column = id_column.get(object_type)
            bad = con.execute(
                "SELECT count(*) FROM risk.process_flags WHERE flag_code = ? AND status = 'flagged' AND ("
                "value IS NULL AND threshold IS NULL "
                "OR CAST(evidence->>'flagged_objects' AS INTEGER) < 1 "
                "OR json_array_length(evidence->'details') < 1"
                + (f" OR len({column}) = 0" if column else "")
                + ")",
                [code],
            ).fetchone()[0]
            assert bad == 0, f"{code}: flagged rows without evidence"
        # not computable rows say why
        assert (
            con.execute(
                "SELECT count(*) FROM risk.process_flags WHERE status = 'not_computable' AND note IS NULL"
            ).fetchone()[0]
            == 0
        )
        # the fences of the build are recorded with the quantile definition
        meta = con.execute("SELECT DISTINCT flag_code, quantile_method FROM risk.risk_meta").fetchall()
        assert {"R024", "R025", "R038", "R048", "R058"} <= {m[0] for m in meta}
        assert all(m[1].startswith("R-8") for m in meta)
        # scores in [0, 1]; composite = mean of the computable components
        assert con.execute(
            "SELECT count(*) FROM risk.process_scores WHERE score < 0 OR score > 1 "
            "OR (components > 0) <> (score IS NOT NULL)"
        ).fetchone() == (0,)
        assert con.execute(
            "SELECT count(*) FROM risk.process_scores s WHERE s.components <> (SELECT count(*) "
            "FROM risk.process_flags f JOIN risk.flag_catalogue c USING (flag_code) "
            "WHERE f.ocid = s.ocid AND c.in_composite AND f.status <> 'not_computable')"
        ).fetchone() == (0,)
        # headline metrics: national rows add up from the regions
        national, regions = con.execute(
            "SELECT sum(processes) FILTER (level = 'national'), sum(processes) FILTER (level = 'region') "
            "FROM risk.headline_metrics"
        ).fetchone()
        assert national == regions > 0
        share = con.execute(
            "SELECT single_source_share_count FROM risk.headline_metrics WHERE level = 'national' ORDER BY year"
        ).fetchall()
        assert share and all(0.2 < s[0] < 0.7 for s in share)  # sandbox: ~40 % single source


def test_every_mart_column_is_described_and_contracted(risk_build) -> None:
    db, _, work = risk_build
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    marts = {
        n["name"]: n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "risk"
    }
    assert set(marts) == set(RISK_MARTS)
    with duckdb.connect(str(db), read_only=True) as con:
        for name, node in marts.items():
            assert node["config"]["contract"]["enforced"] is True, name
            actual = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'risk' "
                    "AND table_name = ? ORDER BY ordinal_position",
                    [name],
                ).fetchall()
            ]
            assert actual == list(node["columns"]), name
            assert not [c for c, col in node["columns"].items() if not col["description"].strip()], name


def test_rebuild_is_byte_identical(risk_build) -> None:
    db, _, work = risk_build
    before = _table_digests(db)
    result = run_dbt(db, work, "run", "--select", "intermediate.risk", "risk", "--threads", "1")
    assert result.returncode == 0, result.stdout[-4000:]
    assert _table_digests(db) == before
