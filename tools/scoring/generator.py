"""Synthetic published tables with ground truth labelled from the WRITTEN definitions.

Why: scoring the flags against cases planted by the same rules and thresholds as the SQL is
circular. Here every label comes from ``docs/risk-indicators.md`` restated in Python with the
documented defaults as constants below (never the dbt vars, never the SQL): boundary twins on
both sides of each threshold, multi-lot announcements, a background drawn from broad distributions
that reaches the boundaries (and is labelled by the same definitions, so a background case that
meets a definition is a positive), and outliers for the fence flags whose labels are fixed when
they are planted, before any fence exists. Randomness: ``random.Random`` seeded from a SHA-256
digest of (seed, stream name), never Python's ``hash()``.

The rows have the columns of the published tables the risk models read (``ocds.*``,
``risk.process_context``, ``risk.organisation_register``, ``risk.debarment_register``).
Labels: ``{(flag_code, key)}`` where key is the ocid (process flags, as rolled up in
``risk.process_flags``) or ``role:party_id`` (organisation flags).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

# --- the documented defaults (docs/risk-indicators.md), restated --------------------------------
R003_MIN_DAYS = 15
SPLIT_THRESHOLD = 3_000_000
SPLIT_WINDOW_DAYS = 365
NEW_COMPANY_DAYS = 365
MANY_AMENDMENTS = 3
AMENDMENT_INCREASE = 1.3
OVERSTATED_RATIO = 0.7
DECISION_MIN_DAYS, DECISION_MAX_DAYS = 1, 60
VAT_TOLERANCE = 0.001
PRICE_CHANGES_WINDOW_DAYS, PRICE_CHANGES_MIN = 90, 2
DEPENDENCE_SHARE, DEPENDENCE_MIN_CONTRACTS = 0.5, 10
PRODUCT_CODES_MIN, PRODUCT_CODE_LENGTH = 4, 6
COMPETITIVE = ("open", "selective")
METHOD_OF = {2: "open", 3: "open", 7: "open", 22: "selective", 6: "direct", 23: "direct", 50: "limited"}
UTC = dt.UTC
#: Flags this generator labels (the others of risk.flag_catalogue are reported as not labelled).
LABELLED = (
    "R003",
    "R018",
    "R024",
    "R028",
    "R030",
    "R035",
    "R036",
    "R055",
    "R058",
    "NON_OPEN",
    "NEW_COMPANY",
    "DEBARRED_WINNER",
    "VAT_NON_PAYER",
    "MANY_AMENDMENTS",
    "AMENDMENT_VALUE_INCREASE",
    "OVERSTATED_VALUE",
    "DECISION_PERIOD",
    "METHOD_MISMATCH",
    "DIRECT_AFTER_FAILED",
    "FREQUENT_PRICE_CHANGES",
    "BUYER_DEPENDENCE",
    "MANY_PRODUCT_CODES",
)


def almaty_year(t: dt.datetime) -> int:
    """The calendar year in Asia/Almaty (UTC+6 before 2024-03-01, UTC+5 from then)."""
    offset = 6 if t < dt.datetime(2024, 3, 1, tzinfo=UTC) else 5
    return (t + dt.timedelta(hours=offset)).year


def rng(seed: int, stream: str) -> random.Random:
    """A generator seeded from a stable digest of (seed, stream)."""
    return random.Random(int.from_bytes(hashlib.sha256(f"{seed}:{stream}".encode()).digest()[:8], "big"))


@dataclass
class Bid:
    tenderer: str
    price: float | None
    status: str = "valid"
    date: dt.datetime | None = None


@dataclass
class Lot:
    bids: list[Bid]
    winner: str | None  # supplier of the lot's one award (None: not awarded)
    planned: float = 1_000_000.0
    awarded: float | None = None  # value of the award's contract (default: the winner's lowest bid)
    planned_method: int | None = None
    amendments: list[tuple[dt.datetime, float]] = field(default_factory=list)
    vat_rate: float = 0.12
    codes: list[str] | None = None  # ENSTRU codes of the contract's items (one item each)


@dataclass
class Dataset:
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    labels: set[tuple[str, str]] = field(default_factory=set)
    #: (flag, key) of every object the definitions say the flag applies to
    scope: set[tuple[str, str]] = field(default_factory=set)
    n: int = 0

    def add(self, table: str, **row: Any) -> None:
        self.rows.setdefault(table, []).append(row)

    def label(self, flag: str, key: str, positive: bool) -> None:
        self.scope.add((flag, key))
        if positive:
            self.labels.add((flag, key))


class Generator:
    """Builds one dataset; ``process`` adds an announcement and labels it."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.d = Dataset()
        self.orgs: dict[str, dict[str, Any]] = {}
        self.direct: list[tuple[str, str, dt.datetime, float, str]] = []  # buyer, supplier, date, net, ocid
        self.contracts: list[
            tuple[str, str, str, dt.datetime, float]
        ] = []  # ocid, buyer, supplier, date, net
        self.items: list[
            tuple[str, str, str, int, str]
        ] = []  # ocid, buyer, supplier, local year, code prefix

    def org(self, pid: str, registered: dt.datetime | None = None, vat: bool | None = True) -> str:
        if pid not in self.orgs:
            self.orgs[pid] = {
                "identifier": f"BIN{pid}",
                "party_id": pid,
                "identifier_scheme": "KZ-BIN",
                "name": pid,
                "has_participant_record": True,
                "registered_at": registered or dt.datetime(2010, 1, 1, tzinfo=UTC),
                "is_vat_payer": vat,
            }
        return pid

    def process(
        self,
        *,
        method: int = 2,
        lots: list[Lot],
        start: dt.datetime,
        days: float,
        repeat_days: float | None = None,
        award_after_days: float = 5.0,
        buyer: str = "B1",
        status: str = "active",
        parent: str | None = None,
    ) -> str:
        d = self.d
        d.n += 1
        ocid = f"ocds-score-{self.seed}-{d.n:05d}"
        end = start + dt.timedelta(days=days)
        repeat = start + dt.timedelta(days=repeat_days) if repeat_days is not None else None
        deadline = max(end, repeat) if repeat else end
        award_date = deadline + dt.timedelta(days=award_after_days)
        pm = METHOD_OF[method]
        self.org(buyer)
        d.add("releases", ocid=ocid, id=ocid, buyer_id=buyer, buyer_name=buyer, publication_year=start.year)
        d.add(
            "tenders",
            ocid=ocid,
            id=ocid,
            announcement_id=d.n,
            status=status,
            procurement_method=pm,
            trade_method_id=method,
            date_published=start,
            tender_period_start_date=start,
            tender_period_end_date=end,
            award_period_start_date=award_date,
            value_amount=sum(lot.planned for lot in lots),
        )
        d.add(
            "process_context",
            ocid=ocid,
            buyer_identifier=f"BIN{buyer}",
            region_code="750000000",
            region_name="Almaty",
            repeat_submission_deadline=repeat,
            parent_ocid=parent,
        )
        cancelled = status == "cancelled"
        competitive = pm in COMPETITIVE
        # R003: open methods, whole days (floor of the exact duration) to the deadline < 15
        if pm == "open" and not cancelled:
            whole = int((deadline - start).total_seconds() // 86400)
            d.label("R003", ocid, whole < R003_MIN_DAYS)
        if not cancelled:
            d.label("NON_OPEN", ocid, pm in ("limited", "direct"))
        if pm == "direct" and not cancelled:
            d.label("DIRECT_AFTER_FAILED", ocid, method == 6 or parent is not None)
        flags: dict[str, bool] = {}
        scoped: set[str] = set()

        def mark(flag: str, value: bool) -> None:
            scoped.add(flag)
            flags[flag] = flags.get(flag, False) or value

        for li, lot in enumerate(lots, 1):
            lot_id = f"{ocid}-L{li}"
            d.add(
                "lots",
                ocid=ocid,
                id=lot_id,
                value_amount=lot.planned,
                status="active",
                trade_method_id=method,
                planned_trade_method_id=lot.planned_method or method,
            )
            if not cancelled and method != 6:
                mark("METHOD_MISMATCH", (lot.planned_method or method) != method)
            for bi, b in enumerate(lot.bids, 1):
                self.org(b.tenderer)
                d.add(
                    "bids",
                    ocid=ocid,
                    id=f"{lot_id}-b{bi}",
                    related_lot=lot_id,
                    tenderer_id=b.tenderer,
                    value_amount=b.price,
                    status=b.status,
                    date=b.date or start + dt.timedelta(days=1),
                )
            valid = [b for b in lot.bids if b.status == "valid"]
            if lot.winner is None or cancelled:
                continue
            supplier = lot.winner
            own = [b.price for b in valid if b.tenderer == supplier and b.price is not None]
            value = lot.awarded if lot.awarded is not None else (min(own) if own else lot.planned)
            award_id = f"{lot_id}-a"
            d.add(
                "awards",
                ocid=ocid,
                id=award_id,
                status="active",
                date=award_date,
                related_lots=[lot_id],
                value_amount=value * (1 + lot.vat_rate),
                value_amount_net=value,
            )
            d.add("award_suppliers", ocid=ocid, award_id=award_id, id=supplier, name=supplier)
            gross = value * (1 + lot.vat_rate)
            d.add(
                "contracts",
                ocid=ocid,
                id=award_id,
                award_id=award_id,
                status="active",
                date_signed=award_date,
                value_amount=gross,
                value_amount_net=value,
                supplier_identifier=f"BIN{supplier}",
            )
            codes = lot.codes or ["101010.100.000001"]
            cents = round(value * 100)
            parts = [cents // len(codes)] * (len(codes) - 1)
            parts.append(cents - sum(parts))  # exact cents: the items sum to the contract value
            for ii, (code, part) in enumerate(zip(codes, parts, strict=True), 1):
                net = part / 100
                d.add(
                    "contract_items",
                    ocid=ocid,
                    contract_id=award_id,
                    id=f"{award_id}-i{ii}",
                    related_lot=lot_id,
                    classification_id=code,
                    quantity=1.0,
                    unit_value_amount=net * (1 + lot.vat_rate),
                    unit_value_amount_net=net,
                    total_value_amount=net * (1 + lot.vat_rate),
                    total_value_amount_net=net,
                )
                self.items.append(
                    (ocid, buyer, supplier, almaty_year(award_date), code[:PRODUCT_CODE_LENGTH])
                )
            prev = value
            changes: list[dt.datetime] = []
            for ai, (when, net) in enumerate(lot.amendments, 1):
                d.add(
                    "amendments",
                    ocid=ocid,
                    contract_id=award_id,
                    id=f"{award_id}-m{ai}",
                    date=when,
                    value_amount_net=net,
                    value_amount=net * (1 + lot.vat_rate),
                )
                if net != prev:
                    changes.append(when)
                prev = net
            # contract-grain definitions
            mark("MANY_AMENDMENTS", len(lot.amendments) >= MANY_AMENDMENTS)
            window = dt.timedelta(days=PRICE_CHANGES_WINDOW_DAYS)
            most = max((sum(1 for c in changes if a <= c <= a + window) for a in changes), default=0)
            mark("FREQUENT_PRICE_CHANGES", most >= PRICE_CHANGES_MIN)
            self.contracts.append((ocid, buyer, supplier, award_date, value))
            if lot.amendments:
                mark("AMENDMENT_VALUE_INCREASE", lot.amendments[-1][1] >= AMENDMENT_INCREASE * value)
            reg = self.orgs[supplier]
            mark(
                "NEW_COMPANY", (award_date - reg["registered_at"]).total_seconds() < NEW_COMPANY_DAYS * 86400
            )
            if reg["is_vat_payer"] is not None:
                mark("VAT_NON_PAYER", gross / value - 1 > VAT_TOLERANCE and not reg["is_vat_payer"])
            debarred = any(
                x["identifier"] == f"BIN{supplier}"
                and x["start_at"] <= award_date
                and (x["end_at"] is None or award_date <= x["end_at"])
                for x in self.d.rows.get("debarment_register", [])
            )
            mark("DEBARRED_WINNER", debarred)
            mark("OVERSTATED_VALUE", value / lot.planned <= OVERSTATED_RATIO)
            if pm == "direct":
                self.direct.append((buyer, supplier, award_date, value, ocid))
            if not competitive:
                continue
            tenderers = {b.tenderer for b in lot.bids}
            mark("R018", len(tenderers) == 1)
            late = [b for b in valid if b.tenderer == supplier and (b.date or start) > deadline]
            mark("R030", bool(late))
            valid_t = {b.tenderer for b in valid}
            disq_others = {b.tenderer for b in lot.bids if b.status == "disqualified"} - valid_t
            mark("R035", valid_t == {supplier} and len(disq_others) >= 1)
            priced = [b for b in lot.bids if b.price is not None]
            if priced and len(priced) == len(lot.bids):
                low = min(b.price for b in priced)
                mark("R036", all(b.status == "disqualified" for b in priced if b.price == low))
            if len(lot.bids) >= 2 and len(priced) >= 2:
                by_price: dict[float, set[str]] = {}
                for b in priced:
                    by_price.setdefault(b.price, set()).add(b.tenderer)
                mark("R028", any(len(t) >= 2 for t in by_price.values()))
        if competitive and not cancelled and any(lot.winner for lot in lots):
            gap = (award_date - deadline).total_seconds() / 86400
            d.label("DECISION_PERIOD", ocid, gap < DECISION_MIN_DAYS or gap > DECISION_MAX_DAYS)
        for flag in scoped:
            d.label(flag, ocid, flags[flag])
        return ocid

    def debar(self, supplier: str, start: dt.datetime, end: dt.datetime | None) -> None:
        self.org(supplier)
        rows = self.d.rows.setdefault("debarment_register", [])
        rows.append(
            {
                "rnu_id": str(len(rows) + 1),
                "identifier": f"BIN{supplier}",
                "start_at": start,
                "end_at": end,
                "reason": "test",
            }
        )

    def outlier(self, ocid: str, flag: str) -> None:
        """A fence-flag label fixed when the case is planted (before any fence is computed)."""
        self.d.label(flag, ocid, True)

    def finish(self) -> Dataset:
        # R055 on the documented definition: direct contracts below the threshold of one pair; a
        # window from one contract's signing to 365 days later with >= 2 of them summing >= threshold
        small = [c for c in self.direct if c[3] < SPLIT_THRESHOLD]
        flagged: set[str] = set()
        for b, s, when, _, _ in small:
            window = [
                c
                for c in small
                if c[0] == b
                and c[1] == s
                and when.date() <= c[2].date() <= when.date() + dt.timedelta(days=SPLIT_WINDOW_DAYS)
            ]
            if len(window) >= 2 and sum(c[3] for c in window) >= SPLIT_THRESHOLD:
                flagged |= {c[4] for c in window}
        for c in small:
            self.d.label("R055", c[4], c[4] in flagged)
        # BUYER_DEPENDENCE: the supplier's share of the buyer's spend in the contract's (local) year
        spend: dict[tuple[str, int], list[tuple[str, str, float]]] = {}
        for ocid, buyer, supplier, when, value in self.contracts:
            spend.setdefault((buyer, almaty_year(when)), []).append((ocid, supplier, value))
        dependent: dict[str, bool] = {}
        for items in spend.values():
            if len(items) < DEPENDENCE_MIN_CONTRACTS:
                continue
            total = sum(v for _, _, v in items)
            for ocid, supplier, _ in items:
                share = sum(v for _, s, v in items if s == supplier) / total
                dependent[ocid] = dependent.get(ocid, False) or share >= DEPENDENCE_SHARE
        for ocid, value in dependent.items():
            self.d.label("BUYER_DEPENDENCE", ocid, value)
        # MANY_PRODUCT_CODES: distinct code prefixes of the buyer-supplier pair in the contract's year
        pair_codes: dict[tuple[str, str, int], set[str]] = {}
        for _, buyer, supplier, year, code in self.items:
            pair_codes.setdefault((buyer, supplier, year), set()).add(code)
        many: dict[str, bool] = {}
        for ocid, buyer, supplier, year, _ in self.items:
            many[ocid] = (
                many.get(ocid, False) or len(pair_codes[(buyer, supplier, year)]) >= PRODUCT_CODES_MIN
            )
        for ocid, value in many.items():
            self.d.label("MANY_PRODUCT_CODES", ocid, value)
        self.d.rows["organisation_register"] = list(self.orgs.values())
        return self.d
