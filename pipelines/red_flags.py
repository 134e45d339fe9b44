"""Red flags on any publisher's OCDS: ``python -m pipelines.red_flags --ocds FILE.jsonl[.gz] --out DIR``.

Why: a monitor can only act on a flag that anyone can recompute, and a peer of OCP's Cardinal must give
the same answer on the same data. This module loads compiled OCDS releases into the tables the risk
models read (the contracted columns of ``ocds.*`` and the risk inputs of ``risk.*``, taken from the dbt
schema files), runs the SAME dbt risk models on them (``var risk_input_schema``), and writes
``process_flags.csv`` and ``organisation_flags.csv``. ``publish recompute-flags`` runs the models
the same way on a published version's own files (:func:`run_risk_models`).

Reading OCDS (what Cardinal does too, docs/risk-indicators.md "Any OCDS"): a release without
``tender/lots`` is one lot (id = the ocid) that every bid and award relates to; submitted bids are
those with status ``valid``, ``disqualified`` or ``pending``; a bid with several tenderers (a consortium) has no
single tenderer; amounts in another currency than the first seen (or ``--currency``) have no price;
an active award without a contract stands for its contract (its items are what was awarded). Every
value that cannot be read is written to ``quarantine.csv`` (ocid, field, reason), never dropped
silently.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import json
import logging
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import yaml

from pipelines.settings import REPO_ROOT

log = logging.getLogger(__name__)

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
#: Schema the risk models read from when var risk_input_schema is set.
INPUT_SCHEMA = "published"
#: risk.* models that build the risk inputs from goszakup's own tables: never rebuilt from a version.
RISK_INPUT_MODELS = ("process_context", "organisation_register", "debarment_register")
#: OCDS tables the risk models read (risk_input).
OCDS_INPUTS = (
    "releases",
    "tenders",
    "lots",
    "bids",
    "awards",
    "award_suppliers",
    "contracts",
    "contract_items",
    "amendments",
)
#: Vars of the ``cardinal`` profile: Cardinal's defaults where ours differ (docs/risk-indicators.md,
#: "Cardinal compatibility").
PROFILES: dict[str, dict[str, Any]] = {
    "default": {},
    "cardinal": {
        "risk_open_methods": None,
        "risk_bid_flag_methods": None,
        "risk_fence_guard": "cardinal",
        "risk_r003_deadline": "tender_period_end",
        "risk_r018_awarded_only": False,
        "risk_r036_without_valid_bid": False,
        "risk_r036_tie": "first_bid",
        "risk_r038_buyer_minimum_of": "bids",
    },
}
SUBMITTED_BID_STATUSES = ("valid", "disqualified", "pending")


# --- the tables the risk models read ------------------------------------------------------------


def contracted_columns() -> dict[str, list[tuple[str, str]]]:
    """``{table: [(column, duckdb type)]}`` of the risk inputs, from the dbt contracts (schema.yml)."""
    out: dict[str, list[tuple[str, str]]] = {}
    wanted = set(OCDS_INPUTS) | set(RISK_INPUT_MODELS)
    for path in (DBT_PROJECT_DIR / "models/ocds/schema.yml", DBT_PROJECT_DIR / "models/risk/schema.yml"):
        for model in yaml.safe_load(path.read_text(encoding="utf-8"))["models"]:
            if model["name"] in wanted:
                out[model["name"]] = [(c["name"], c["data_type"]) for c in model["columns"]]
    missing = wanted - set(out)
    if missing:
        raise RuntimeError(f"no contracted columns for {sorted(missing)} in dbt_project/models/*/schema.yml")
    return out


def create_input_tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Empty input tables in schema ``published`` with the contracted columns; returns their columns."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {INPUT_SCHEMA}")
    cols = {}
    for table, columns in contracted_columns().items():
        body = ", ".join(f'"{c}" {t}' for c, t in columns)
        con.execute(f'CREATE OR REPLACE TABLE {INPUT_SCHEMA}."{table}" ({body})')
        cols[table] = [c for c, _ in columns]
    return cols


# --- reading OCDS -------------------------------------------------------------------------------


def iter_releases(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, release) of a JSON Lines file (gzipped or not) of releases or release packages."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(
                    f"{path}:{n}: not JSON ({e.msg}); a file of compiled releases is needed"
                ) from e
            for release in doc.get("releases", [doc]) if isinstance(doc, dict) else []:
                if isinstance(release, dict):
                    yield n, release


class Loader:
    """Turns releases into rows of the input tables; collects what it cannot read (quarantine)."""

    def __init__(
        self, columns: dict[str, list[str]], currency: str | None, exclude_details: set[str]
    ) -> None:
        self.columns = columns
        self.currency = currency
        self.exclude_details = exclude_details
        self.rows: dict[str, list[dict[str, Any]]] = {t: [] for t in columns}
        self.quarantine: list[tuple[str, str, str]] = []
        self.excluded = 0

    def bad(self, ocid: str, field: str, reason: str) -> None:
        self.quarantine.append((ocid, field, reason))

    def ts(self, ocid: str, field: str, value: Any) -> dt.datetime | None:
        if value in (None, ""):
            return None
        try:
            t = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.bad(ocid, field, f"{value!r} is not an ISO 8601 date-time")
            return None
        if t.tzinfo is None:
            self.bad(ocid, field, f"{value!r} has no time zone; read as UTC")
            t = t.replace(tzinfo=dt.UTC)
        return t

    def amount(self, ocid: str, field: str, value: Any) -> float | None:
        if not isinstance(value, dict) or value.get("amount") is None:
            return None
        amount, currency = value.get("amount"), value.get("currency")
        if not isinstance(amount, int | float) or isinstance(amount, bool):
            self.bad(ocid, field, f"amount {amount!r} is not a number")
            return None
        if self.currency is None and currency:
            self.currency = currency  # Cardinal: the first currency seen, unless one is chosen
        if currency != self.currency:
            self.bad(ocid, field, f"currency {currency!r} is not {self.currency!r}: amount left out")
            return None
        return float(amount)

    def add(self, table: str, **values: Any) -> None:
        self.rows[table].append(values)

    def load(self, release: dict) -> None:
        ocid = release.get("ocid")
        if not isinstance(ocid, str) or not ocid:
            self.bad(str(ocid), "ocid", "release without an ocid: left out")
            return
        tender = release.get("tender") if isinstance(release.get("tender"), dict) else {}
        details = tender.get("procurementMethodDetails")
        if details in self.exclude_details:
            self.excluded += 1
            return
        buyer = release.get("buyer") or {}
        date = self.ts(ocid, "date", release.get("date"))
        self.add(
            "releases",
            ocid=ocid,
            id=release.get("id"),
            date=date,
            buyer_id=buyer.get("id"),
            buyer_name=buyer.get("name"),
            publication_year=date.year if date else None,
        )
        period = tender.get("tenderPeriod") or {}
        number = tender.get("numberOfTenderers")
        self.add(
            "tenders",
            ocid=ocid,
            id=tender.get("id"),
            status=tender.get("status"),
            procurement_method=tender.get("procurementMethod"),
            procurement_method_details=details,
            value_amount=self.amount(ocid, "tender/value", tender.get("value")),
            date_published=self.ts(ocid, "tender/datePublished", tender.get("datePublished")),
            tender_period_start_date=self.ts(ocid, "tender/tenderPeriod/startDate", period.get("startDate")),
            tender_period_end_date=self.ts(ocid, "tender/tenderPeriod/endDate", period.get("endDate")),
            award_period_start_date=self.ts(
                ocid, "tender/awardPeriod/startDate", (tender.get("awardPeriod") or {}).get("startDate")
            ),
            number_of_tenderers=number if isinstance(number, int) and not isinstance(number, bool) else None,
        )
        self.add("process_context", ocid=ocid)
        lots = [lot for lot in tender.get("lots") or [] if isinstance(lot, dict) and lot.get("id")]
        lot_ids = [str(lot["id"]) for lot in lots] or [ocid]
        for lot in lots:
            self.add(
                "lots",
                ocid=ocid,
                id=str(lot["id"]),
                status=lot.get("status"),
                value_amount=self.amount(ocid, f"tender/lots/{lot['id']}/value", lot.get("value")),
            )
        if not lots:
            self.add(
                "lots",
                ocid=ocid,
                id=ocid,
                value_amount=self.amount(ocid, "tender/value", tender.get("value")),
            )

        def related(obj: dict) -> list[str]:
            rel = [str(x) for x in obj.get("relatedLots") or []]
            return rel or (lot_ids if len(lot_ids) == 1 else [])

        for i, bid in enumerate((release.get("bids") or {}).get("details") or [], 1):
            if not isinstance(bid, dict) or bid.get("status") not in SUBMITTED_BID_STATUSES:
                continue  # invited, withdrawn: not submitted bids (as Cardinal)
            bid_id = str(bid.get("id") or f"{i:06d}")
            tenderers = [
                t.get("id") for t in bid.get("tenderers") or [] if isinstance(t, dict) and t.get("id")
            ]
            if len(tenderers) > 1:
                self.bad(
                    ocid,
                    f"bids/details/{bid_id}/tenderers",
                    f"{len(tenderers)} tenderers (a consortium): the bid has no single tenderer",
                )
            price = self.amount(ocid, f"bids/details/{bid_id}/value", bid.get("value"))
            for lot_id in related(bid):
                self.add(
                    "bids",
                    ocid=ocid,
                    id=bid_id,
                    related_lot=lot_id,
                    status=bid["status"],
                    date=self.ts(ocid, f"bids/details/{bid_id}/date", bid.get("date")),
                    tenderer_id=tenderers[0] if len(tenderers) == 1 else None,
                    value_amount=price,
                )
        contracted = {str(c.get("awardID")) for c in release.get("contracts") or [] if isinstance(c, dict)}
        for i, award in enumerate(release.get("awards") or [], 1):
            if not isinstance(award, dict):
                continue
            award_id = str(award.get("id") or f"award-{i:04d}")
            value = self.amount(ocid, f"awards/{award_id}/value", award.get("value"))
            self.add(
                "awards",
                ocid=ocid,
                id=award_id,
                status=award.get("status"),
                value_amount=value,
                value_amount_net=value,
                date=self.ts(ocid, f"awards/{award_id}/date", award.get("date")),
                related_lots=related(award),
            )
            for s in award.get("suppliers") or []:
                if isinstance(s, dict) and s.get("id"):
                    self.add(
                        "award_suppliers", ocid=ocid, award_id=award_id, id=str(s["id"]), name=s.get("name")
                    )
            if award.get("status") == "active" and award_id not in contracted:
                self.contract(
                    ocid,
                    {
                        "id": award_id,
                        "awardID": award_id,
                        "value": award.get("value"),
                        "items": award.get("items") or [],
                    },
                    related(award),
                )
        for contract in release.get("contracts") or []:
            if isinstance(contract, dict):
                self.contract(ocid, contract, lot_ids if len(lot_ids) == 1 else [])
        for party in release.get("parties") or []:
            if isinstance(party, dict) and party.get("id"):
                ident = party.get("identifier") or {}
                self.add(
                    "organisation_register",
                    identifier=str(ident.get("id") or party["id"]),
                    party_id=str(party["id"]),
                    identifier_scheme=ident.get("scheme"),
                    name=party.get("name"),
                    has_participant_record=False,
                )

    def contract(self, ocid: str, contract: dict, lot_ids: list[str]) -> None:
        cid = str(contract.get("id"))
        value = self.amount(ocid, f"contracts/{cid}/value", contract.get("value"))
        self.add(
            "contracts",
            ocid=ocid,
            id=cid,
            award_id=str(contract.get("awardID")),
            status=contract.get("status"),
            date_signed=self.ts(ocid, f"contracts/{cid}/dateSigned", contract.get("dateSigned")),
            value_amount=value,
            value_amount_net=value,
        )
        for i, item in enumerate(contract.get("items") or [], 1):
            if not isinstance(item, dict):
                continue
            unit = self.amount(ocid, f"contracts/{cid}/items/unit", (item.get("unit") or {}).get("value"))
            quantity = item.get("quantity") if isinstance(item.get("quantity"), int | float) else None
            self.add(
                "contract_items",
                ocid=ocid,
                contract_id=cid,
                id=str(item.get("id") or i),
                related_lot=lot_ids[0] if len(lot_ids) == 1 else None,
                classification_id=(item.get("classification") or {}).get("id"),
                quantity=quantity,
                unit_value_amount=unit,
                unit_value_amount_net=unit,
                total_value_amount_net=unit * quantity if unit is not None and quantity is not None else None,
            )
        for i, amendment in enumerate(contract.get("amendments") or [], 1):
            if isinstance(amendment, dict):
                self.add(
                    "amendments",
                    ocid=ocid,
                    contract_id=cid,
                    id=str(amendment.get("id") or i),
                    date=self.ts(ocid, f"contracts/{cid}/amendments/date", amendment.get("date")),
                )

    def write(self, con: duckdb.DuckDBPyConnection) -> None:
        for table, rows in self.rows.items():
            if not rows:
                continue
            cols = self.columns[table]
            unknown = {k for r in rows for k in r} - set(cols)
            if unknown:
                raise RuntimeError(f"{table}: no contracted columns {sorted(unknown)}")
            names = sorted({k for r in rows for k in r})
            con.executemany(
                f'INSERT INTO {INPUT_SCHEMA}."{table}" ({", ".join(names)}) VALUES ({", ".join("?" * len(names))})',
                [[r.get(n) for n in names] for r in rows],
            )


# --- running the risk models ---------------------------------------------------------------------


def dbt_executable() -> str:
    exe = Path(sys.executable).with_name("dbt")
    return str(exe) if exe.exists() else "dbt"


def run_risk_models(db: Path, work: Path, variables: dict[str, Any]) -> None:
    """Seed the flag catalogue and run the risk models of ``dbt_project`` on the tables of schema
    ``published`` in ``db`` (nothing else is read). Raises with dbt's output when dbt fails."""
    con = duckdb.connect(str(db))
    try:
        # buyer_scores / supplier_scores name organisations through int_goszakup__identifiers: the
        # published organisation register stands for it
        con.execute("CREATE SCHEMA IF NOT EXISTS intermediate")
        con.execute(
            "CREATE OR REPLACE VIEW intermediate.int_goszakup__identifiers AS SELECT identifier, "
            "identifier_scheme AS scheme, party_id, name AS name_ru, has_participant_record "
            f"FROM {INPUT_SCHEMA}.organisation_register WHERE party_id IS NOT NULL"
        )
    finally:
        con.close()
    env_vars = json.dumps({**variables, "risk_input_schema": INPUT_SCHEMA})
    common = [
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
        "--vars",
        env_vars,
    ]
    env = {
        "GOSZAKUP_DUCKDB_PATH": str(db),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
    }
    # one dbt call: the flag catalogue seed and the risk models (their data tests belong to the build
    # of the warehouse; here the inputs are a version's or another publisher's)
    args = [
        "build",
        "--select",
        "risk_flags",
        "intermediate.risk",
        "risk",
        "--exclude",
        *RISK_INPUT_MODELS,
        "--exclude-resource-type",
        "test",
        "unit_test",
        "--threads",
        "2",
        "--no-write-json",
    ]
    result = subprocess.run(
        [dbt_executable(), *args, *common], env=env, capture_output=True, text=True, timeout=3600, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"dbt build of the risk models failed on {db}:\n{result.stdout[-4000:]}{result.stderr[-2000:]}"
        )


def write_flags_csv(con: duckdb.DuckDBPyConnection, out: Path) -> dict[str, int]:
    """process_flags.csv (code, ocid, ...) and organisation_flags.csv (code, organisation_id, role, ...)."""
    out.mkdir(parents=True, exist_ok=True)
    queries = {
        "process_flags.csv": "SELECT flag_code AS code, ocid, status, value, threshold, evidence::VARCHAR AS evidence "
        "FROM risk.process_flags ORDER BY code, ocid",
        "organisation_flags.csv": "SELECT flag_code AS code, party_id AS organisation_id, role, status, value, "
        "threshold, evidence::VARCHAR AS evidence FROM risk.organisation_flags ORDER BY code, organisation_id, role",
    }
    counts = {}
    for name, sql in queries.items():
        cur = con.execute(sql)
        header = [d[0] for d in cur.description]
        rows = cur.fetchall()
        with open(out / name, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)
        counts[name] = len(rows)
    return counts


def red_flags(
    ocds: Path,
    out: Path,
    *,
    profile: str = "default",
    variables: dict[str, Any] | None = None,
    currency: str | None = None,
    exclude_details: set[str] | None = None,
) -> dict[str, int]:
    """Load ``ocds`` (compiled releases), run the risk models, write the CSVs to ``out``."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: {sorted(PROFILES)}")
    with tempfile.TemporaryDirectory(prefix="red-flags-") as tmp:
        db = Path(tmp) / "ocds.duckdb"
        con = duckdb.connect(str(db))
        try:
            con.execute("SET TimeZone = 'UTC'")
            loader = Loader(create_input_tables(con), currency, exclude_details or set())
            for _, release in iter_releases(ocds):
                loader.load(release)
            loader.write(con)
        finally:
            con.close()
        run_risk_models(db, Path(tmp), {**PROFILES[profile], **(variables or {})})
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "quarantine.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["ocid", "field", "reason"])
            w.writerows(loader.quarantine)
        for ocid, field, reason in loader.quarantine:
            log.warning("%s: %s: %s", ocid, field, reason)
        with duckdb.connect(str(db), read_only=True) as con:
            con.execute("SET TimeZone = 'UTC'")
            counts = write_flags_csv(con, out)
    return {**counts, "quarantined values": len(loader.quarantine), "excluded releases": loader.excluded}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m pipelines.red_flags", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--ocds", required=True, type=Path, help="compiled releases, JSON Lines (.jsonl or .jsonl.gz)"
    )
    p.add_argument(
        "--out", required=True, type=Path, help="folder for process_flags.csv, organisation_flags.csv"
    )
    p.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default="default",
        help="cardinal: Cardinal's defaults where ours differ (docs/risk-indicators.md)",
    )
    p.add_argument(
        "--vars",
        default="{}",
        help="dbt vars (JSON) on top of the profile, e.g. '{\"risk_r003_min_days\": 10}'",
    )
    p.add_argument("--currency", help="the currency compared (default: the first one seen, as Cardinal)")
    p.add_argument(
        "--exclude-method-details", default="", help="procurementMethodDetails to leave out, '|'-separated"
    )
    p.add_argument(
        "--no-price-comparison",
        default="",
        help="procurementMethodDetails whose award is not by price, '|'-separated",
    )
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    variables = json.loads(args.vars)
    if args.no_price_comparison:
        variables["risk_no_price_comparison_method_details"] = args.no_price_comparison.split("|")
    counts = red_flags(
        args.ocds,
        args.out,
        profile=args.profile,
        variables=variables,
        currency=args.currency,
        exclude_details=set(filter(None, args.exclude_method_details.split("|"))),
    )
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
