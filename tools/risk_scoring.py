"""Score the risk marts against the sandbox's planted ground truth: precision and recall per flag.

Why: a red flag is only useful if it finds what it claims to find and little else. The sandbox
world plants known cases of each pattern (:mod:`sandbox.patterns`) and keeps their ids in
its ``ground_truth`` table; this module compares them with what ``risk.process_flags`` flagged.

``python -m tools.risk_scoring [--warehouse F] [--world F]`` prints a table and exits 1 when a
flag with planted cases is below recall 0.95 or precision 0.9 (``make score``). Defaults come from
:class:`~pipelines.settings.Settings`: the warehouse file and the cached sandbox world of
``sandbox_seed`` / ``sandbox_scale`` under ``data_dir``.

How objects are matched: lot patterns by lot id (``process_flags.lot_ids``), contract patterns by
contract id (``contract_ids``), process patterns by announcement id (the ocid's ``trd_buy``),
splitting by the (buyer, supplier) pair's BIN/IIN (the process's buyer and ``party_ids``; the
ground truth names pids, mapped through the world's ``subject`` table). A check may restrict the
planted cases its recall is measured on (``details`` of the case): the amendment pattern plants
"many amendments" and "value raised" cases, which two flags find separately. Precision always counts
a flagged object as right when it is any planted case of the pattern.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from sandbox import patterns as pt

MIN_RECALL = 0.95
MIN_PRECISION = 0.9
TABLE_WIDTH = 150


@dataclass(frozen=True)
class Check:
    """One row of the score table: flags (their union) against one planted pattern."""

    flags: tuple[str, ...]
    pattern: str
    match: str  # lot | contract | process | pair
    case_filter: Callable[[dict[str, Any]], bool] | None = None
    cases: str = "all"  # description of the cases recall is measured on

    @property
    def label(self) -> str:
        return " + ".join(self.flags)


CHECKS: tuple[Check, ...] = (
    Check(("R003",), "short_period", "process"),
    Check(("R018",), "single_bid", "lot"),
    Check(("R028",), "identical_offers", "lot"),
    Check(("R030",), "late_win", "lot"),
    Check(("R035",), "all_but_winner_disqualified", "lot"),
    Check(("R036",), "lowest_bid_disqualified", "lot"),
    Check(("R055",), "split_purchase", "pair"),
    Check(("DEBARRED_WINNER",), "debarred_winner", "contract"),
    Check(("NEW_COMPANY",), "new_company", "contract"),
    Check(("METHOD_MISMATCH",), "method_mismatch", "lot"),
    Check(("OVERSTATED_VALUE",), "award_far_below", "contract"),
    Check(
        ("MANY_AMENDMENTS",),
        "inflated_amendment",
        "contract",
        lambda d: d.get("amendments", 0) >= pt.AMENDMENT_COUNT,
        f">= {pt.AMENDMENT_COUNT} amendments",
    ),
    Check(
        ("AMENDMENT_VALUE_INCREASE",),
        "inflated_amendment",
        "contract",
        lambda d: d.get("ratio", 0) >= 1 + pt.AMENDMENT_RAISE,
        f"value x >= {1 + pt.AMENDMENT_RAISE:g}",
    ),
    Check(("MANY_AMENDMENTS", "AMENDMENT_VALUE_INCREASE"), "inflated_amendment", "contract"),
    Check(("VAT_NON_PAYER",), "vat_non_payer", "contract"),
    Check(("BID_ROTATION",), "bid_rotation", "lot"),
)


@dataclass(frozen=True)
class Score:
    check: Check
    planted: int  # planted cases recall is measured on
    flagged: int  # distinct objects flagged
    true_positives: int  # flagged objects that are planted cases of the pattern
    found: int  # planted cases (of the measured ones) that were flagged
    missed: tuple[str, ...]
    false_alarms: tuple[str, ...]

    @property
    def precision(self) -> float:
        return self.true_positives / self.flagged if self.flagged else 0.0

    @property
    def recall(self) -> float:
        return self.found / self.planted if self.planted else 0.0

    @property
    def passed(self) -> bool:
        return self.recall >= MIN_RECALL and self.precision >= MIN_PRECISION


def _identifiers(world: duckdb.DuckDBPyConnection) -> dict[int, str]:
    """Participant pid -> BIN/IIN in the world."""
    rows = world.execute("SELECT pid, coalesce(nullif(bin, ''), iin) FROM subject").fetchall()
    return {int(pid): str(number) for pid, number in rows if number}


def planted_objects(world: duckdb.DuckDBPyConnection, check: Check) -> tuple[set[str], set[str]]:
    """(every planted object of the pattern, the planted objects recall is measured on)."""
    from sandbox import ground_truth

    cases = [c for c in ground_truth(world) if c["pattern"] == check.pattern]
    ids = _identifiers(world) if check.match == "pair" else {}

    def key(case: dict[str, Any]) -> str:
        if check.match == "pair":
            return f"{ids.get(case['buyer_pid'])}|{ids.get(case['supplier_pid'])}"
        return str(case["object_id"])

    every = {key(c) for c in cases}
    measured = {key(c) for c in cases if check.case_filter is None or check.case_filter(c["details"])}
    return every, measured


def flagged_objects(warehouse: duckdb.DuckDBPyConnection, check: Check) -> set[str]:
    """Distinct objects the check's flags raised in risk.process_flags."""
    codes = list(check.flags)
    base = "FROM risk.process_flags f WHERE f.status = 'flagged' AND list_contains($codes, f.flag_code)"
    if check.match == "lot":
        sql = f"SELECT DISTINCT unnest(f.lot_ids) {base}"
    elif check.match == "contract":
        sql = f"SELECT DISTINCT unnest(f.contract_ids) {base}"
    elif check.match == "process":
        sql = (
            "SELECT DISTINCT CAST(t.announcement_id AS VARCHAR) FROM risk.process_flags f "
            "JOIN ocds.tenders t ON t.ocid = f.ocid "
            "WHERE f.status = 'flagged' AND list_contains($codes, f.flag_code)"
        )
    elif check.match == "pair":
        # party ids are '<scheme>-<BIN/IIN>': the number is the part after the last '-'
        sql = (
            "SELECT DISTINCT regexp_extract(r.buyer_id, '[^-]+$') || '|' || regexp_extract(s, '[^-]+$') "
            "FROM (SELECT f.ocid, unnest(f.party_ids) AS s FROM risk.process_flags f "
            "WHERE f.status = 'flagged' AND list_contains($codes, f.flag_code)) x "
            "JOIN ocds.releases r ON r.ocid = x.ocid"
        )
    else:  # pragma: no cover - CHECKS is static
        raise ValueError(f"unknown match {check.match!r}")
    return {str(r[0]) for r in warehouse.execute(sql, {"codes": codes}).fetchall()}


def score(warehouse_path: Path, world_path: Path, checks: Sequence[Check] = CHECKS) -> list[Score]:
    """Precision and recall of every check (both files opened read-only)."""
    for path, what in ((warehouse_path, "warehouse"), (world_path, "sandbox world")):
        if not Path(path).is_file():
            raise FileNotFoundError(f"{what} file {path} does not exist")
    out = []
    with (
        duckdb.connect(str(warehouse_path), read_only=True) as wh,
        duckdb.connect(str(world_path), read_only=True) as world,
    ):
        present = {
            r[0]
            for r in wh.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'risk'"
            ).fetchall()
        }
        if "process_flags" not in present:
            raise LookupError(f"{warehouse_path} has no risk.process_flags: run dbt build first")
        for check in checks:
            every, measured = planted_objects(world, check)
            flagged = flagged_objects(wh, check)
            out.append(
                Score(
                    check=check,
                    planted=len(measured),
                    flagged=len(flagged),
                    true_positives=len(flagged & every),
                    found=len(flagged & measured),
                    missed=tuple(sorted(measured - flagged)),
                    false_alarms=tuple(sorted(flagged - every)),
                )
            )
    return out


def print_scores(scores: Sequence[Score]) -> None:
    from rich.console import Console
    from rich.table import Table

    title = f"Risk flags vs planted ground truth (recall >= {MIN_RECALL}, precision >= {MIN_PRECISION})"
    table = Table(title=title)
    for column in ("flag", "planted pattern", "cases", "match"):
        table.add_column(column)
    for column in ("planted", "flagged", "TP", "precision", "recall", ""):
        table.add_column(column, justify="right")
    for s in scores:
        table.add_row(
            s.check.label,
            s.check.pattern,
            s.check.cases,
            s.check.match,
            str(s.planted),
            str(s.flagged),
            str(s.true_positives),
            f"{s.precision:.3f}",
            f"{s.recall:.3f}",
            "[green]ok[/green]" if s.passed else "[red]FAIL[/red]",
        )
    console = Console()
    if console.width < TABLE_WIDTH:  # not a terminal (or a narrow one): keep the flag codes whole
        console = Console(width=TABLE_WIDTH)
    console.print(table)
    for s in scores:
        if not s.passed:
            console.print(
                f"{s.check.label}: missed {list(s.missed[:10])} false alarms {list(s.false_alarms[:10])}",
                highlight=False,
            )


def default_paths() -> tuple[Path, Path]:
    """(warehouse, world) from the settings: the warehouse file and the cached sandbox world."""
    from pipelines.settings import load_settings
    from sandbox.world import world_path

    settings = load_settings()
    return settings.warehouse_path, world_path(
        settings.data_dir, seed=settings.sandbox_seed, scale=settings.sandbox_scale
    )


def main(argv: Sequence[str] | None = None) -> int:
    warehouse, world = default_paths()
    parser = argparse.ArgumentParser(
        prog="python -m tools.risk_scoring",
        description="Precision and recall of the risk flags against the sandbox's planted ground truth.",
    )
    parser.add_argument(
        "--warehouse", type=Path, default=warehouse, help=f"warehouse DuckDB file (default {warehouse})"
    )
    parser.add_argument(
        "--world", type=Path, default=world, help=f"sandbox world DuckDB file (default {world})"
    )
    args = parser.parse_args(argv)
    try:
        scores = score(args.warehouse, args.world)
    except (FileNotFoundError, LookupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_scores(scores)
    return 0 if all(s.passed for s in scores) else 1


if __name__ == "__main__":
    sys.exit(main())
