"""OCDS codelists are read from the vendored schema, and dbt's accepted values stay within them."""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

from expectations.suites import ocds as ocds_suite
from pipelines.ocds_schema import CODELIST_DIR, codelist

OCDS_MODELS = Path(__file__).resolve().parent.parent / "dbt_project" / "models" / "ocds" / "schema.yml"

#: (model, column) -> the closed OCDS codelist its dbt ``accepted_values`` must stay within
CODELIST_OF = {
    ("releases", "tag"): "releaseTag",
    ("releases", "initiation_type"): "initiationType",
    ("parties", "roles"): "partyRole",
    ("tenders", "status"): "tenderStatus",
    ("tenders", "procurement_method"): "method",
    ("tenders", "main_procurement_category"): "procurementCategory",
    ("lots", "status"): "tenderStatus",
    ("awards", "status"): "awardStatus",
    ("contracts", "status"): "contractStatus",
}


def _accepted_values() -> dict[tuple[str, str], list[str]]:
    found = {}
    for model in yaml.safe_load(OCDS_MODELS.read_text(encoding="utf-8"))["models"]:
        for column in model.get("columns", []):
            for test in column.get("data_tests") or column.get("tests") or []:
                if isinstance(test, dict):
                    for name, spec in test.items():
                        if name.endswith("accepted_values"):
                            found[(model["name"], column["name"])] = (spec.get("arguments") or spec)["values"]
    return found


def test_codelists_are_the_vendored_csvs() -> None:
    with (CODELIST_DIR / "tenderStatus.csv").open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Code"] or rows[0][0] == "Code"
    assert codelist("tenderStatus") == tuple(r[0] for r in rows[1:])
    # codes the 1.1 standard defines, spelled out independently of the files
    assert set(codelist("method")) == {"open", "selective", "limited", "direct"}
    assert set(codelist("awardStatus")) == {"pending", "active", "cancelled", "unsuccessful"}


def test_gx_suites_use_the_schema_codelists() -> None:
    assert codelist("tenderStatus") == ocds_suite.TENDER_STATUS
    assert codelist("awardStatus") == ocds_suite.AWARD_STATUS
    assert codelist("contractStatus") == ocds_suite.CONTRACT_STATUS
    assert codelist("method") == ocds_suite.PROCUREMENT_METHODS
    assert codelist("initiationType") == ocds_suite.INITIATION_TYPES


def test_dbt_accepted_values_are_within_the_schema_codelists() -> None:
    accepted = _accepted_values()
    missing = set(CODELIST_OF) - set(accepted)
    assert not missing, f"no accepted_values test on {sorted(missing)}"
    for key, name in CODELIST_OF.items():
        outside = set(accepted[key]) - set(codelist(name))
        assert not outside, f"{key[0]}.{key[1]}: {sorted(outside)} are not in the OCDS {name} codelist"
