"""The vendored OCDS 1.1 schema (``dbt_project/ocds_schema/1__1__5/``) and its closed codelists.

Why read the codelists from the schema's CSVs: a code list is the standard's, not ours; reading it
from the vendored files means the checks follow the schema version we validate against, and no
copy of the codes can drift from it. The dbt ``accepted_values`` tests are checked to be subsets
of these lists (``tests/test_ocds_codelists.py``).
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "dbt_project" / "ocds_schema" / "1__1__5"
CODELIST_DIR = SCHEMA_DIR / "codelists"


@functools.cache
def codelist(name: str) -> tuple[str, ...]:
    """The codes of the codelist ``name`` (e.g. ``tenderStatus``), in the schema's order."""
    path = CODELIST_DIR / f"{name}.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return tuple(row["Code"] for row in csv.DictReader(f))


__all__ = ["CODELIST_DIR", "SCHEMA_DIR", "codelist"]
