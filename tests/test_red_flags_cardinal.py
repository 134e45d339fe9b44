"""OCP Cardinal's own indicator fixtures (tests/fixtures/cardinal, MIT) through
``python -m pipelines.red_flags --profile cardinal``: the same dbt risk models as the warehouse, on
another publisher's OCDS, must give Cardinal's expected results.

Independent truth: the ``.expected`` files are Cardinal's outputs, written by Cardinal's authors.
To keep the suite short, fixtures that cannot disturb each other share one run: every id is prefixed
with the fixture's name, and a fixture whose indicator compares against a fence (R024, R025, R038,
R058) only shares a run with fixtures that add nothing to that fence's distribution.

Compared: every process Cardinal flags (``OCID``) and no other, per indicator, with the value where
both measure the same quantity (R024 / R058 ratio, R035 count, R025 / R038 ratio, R048 variety);
organisations (``Buyer``, ``Tenderer``) for the organisation flags (R025, R038, R048) and R028's
tenderer roll-up. Not compared: Cardinal's ``ProcuringEntity`` group (not measured here) and its
tenderer lists of R024 / R030 / R035 / R058 (here they are the flag's ``party_ids`` evidence).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pipelines import red_flags

FIXTURES = Path(__file__).parent / "fixtures" / "cardinal"
#: run -> (fixtures, extra dbt vars from the fixtures' settings)
RUNS: dict[str, tuple[tuple[str, ...], dict]] = {
    "fixed-thresholds": (
        (
            "R003",
            "R003-procurement_method_details-x-5-y-10",
            "R018",
            "R028",
            "R030",
            "R035",
            "R036",
            "R048-minimum_contracting_processes-1",
        ),
        {"risk_r003_min_days_by_method": {"x": 5, "y": 10}, "risk_r048_min_processes": 1},
    ),
    "r038": (
        ("R038", "R038-tenderer", "R003-procurement_methods-open+selective"),
        {"risk_open_methods": ["open", "selective"]},
    ),
    "r024": (("R024", "R003-threshold-10"), {"risk_r003_min_days": 10}),
    "r058": (("R058",), {}),
    "r025": (("R025",), {}),
}
VALUED = {"R024", "R025", "R035", "R038", "R048", "R058"}
#: Cardinal group -> (our role, codes compared)
ORGANISATIONS = {"Buyer": ("buyer", {"R038"}), "Tenderer": ("tenderer", {"R025", "R028", "R038"})}


def _prefixed(release: dict, prefix: str) -> dict:
    """The release with its ocid and every organisation id prefixed (fixtures share ocids and ids)."""

    def org(o: object) -> object:
        if isinstance(o, dict) and "id" in o:
            return {**o, "id": f"{prefix}{o['id']}"}
        return o

    r = json.loads(json.dumps(release))
    r["ocid"] = f"{prefix}{r['ocid']}"
    if "buyer" in r:
        r["buyer"] = org(r["buyer"])
    for bid in (r.get("bids") or {}).get("details") or []:
        bid["tenderers"] = [org(t) for t in bid.get("tenderers") or []]
    for award in r.get("awards") or []:
        award["suppliers"] = [org(s) for s in award.get("suppliers") or []]
    return r


def _read(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module", params=sorted(RUNS))
def cardinal_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    fixtures, variables = RUNS[request.param]
    work = tmp_path_factory.mktemp(f"cardinal-{request.param}")
    ocds = work / "releases.jsonl"
    with open(ocds, "w", encoding="utf-8") as f:
        for name in fixtures:
            for line in (FIXTURES / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
                if line.strip():
                    f.write(json.dumps(_prefixed(json.loads(line), f"{name}/")) + "\n")
    counts = red_flags.red_flags(
        ocds,
        work / "out",
        profile="cardinal",
        variables={**variables, "risk_no_price_comparison_method_details": ["NPC"]},
        exclude_details={"EXC"},
    )
    return fixtures, work / "out", counts


def test_cardinal_fixtures_give_cardinal_results(cardinal_run) -> None:
    fixtures, out, counts = cardinal_run
    assert counts["process_flags.csv"] > 0
    processes = _read(out / "process_flags.csv")
    organisations = _read(out / "organisation_flags.csv")
    for name in fixtures:
        code, prefix = name.split("-")[0], f"{name}/"
        expected = json.loads((FIXTURES / f"{name}.expected").read_text(encoding="utf-8"))
        want = {
            f"{prefix}{ocid}": codes[code]
            for ocid, codes in expected.get("OCID", {}).items()
            if code in codes
        }
        got = {
            r["ocid"]: float(r["value"]) if r["value"] else None
            for r in processes
            if r["code"] == code and r["status"] == "flagged" and r["ocid"].startswith(prefix)
        }
        assert set(got) == set(want), (name, sorted(got), sorted(want))
        if code in VALUED:
            for ocid, value in want.items():
                assert got[ocid] == pytest.approx(value), (name, ocid)
        for group, (role, codes) in ORGANISATIONS.items():
            if code not in codes:
                continue
            want_orgs = {
                f"{prefix}{org}": values[code]
                for org, values in expected.get(group, {}).items()
                if code in values
            }
            got_orgs = {
                r["organisation_id"]: float(r["value"]) if r["value"] else None
                for r in organisations
                if r["code"] == code
                and r["role"] == role
                and r["status"] == "flagged"
                and r["organisation_id"].startswith(prefix)
            }
            assert set(got_orgs) == set(want_orgs), (name, group, sorted(got_orgs), sorted(want_orgs))
            if code in VALUED:
                for org, value in want_orgs.items():
                    assert got_orgs[org] == pytest.approx(value), (name, org)
        if code == "R048":
            want_suppliers = {f"{prefix}{org}" for org in expected.get("Tenderer", {})}
            got_suppliers = {
                r["organisation_id"]
                for r in organisations
                if r["code"] == "R048"
                and r["status"] == "flagged"
                and r["organisation_id"].startswith(prefix)
            }
            assert got_suppliers == want_suppliers, name


def test_default_profile_differs_where_documented(tmp_path: Path) -> None:
    """The default (Kazakhstan) setting applies R003 to open methods only: Cardinal's R003 fixture
    flags five processes, the default flags only the open one (docs/risk-indicators.md)."""
    ocds = tmp_path / "r003.jsonl"
    ocds.write_text((FIXTURES / "R003.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    red_flags.red_flags(ocds, tmp_path / "out")
    flagged = {
        r["ocid"]
        for r in _read(tmp_path / "out" / "process_flags.csv")
        if r["code"] == "R003" and r["status"] == "flagged"
    }
    assert flagged == {"open"}
    quarantine = _read(tmp_path / "out" / "quarantine.csv")
    assert {(q["ocid"], q["field"]) for q in quarantine} >= {
        ("invalid start date", "tender/tenderPeriod/startDate"),
        ("invalid end date", "tender/tenderPeriod/endDate"),
    }
