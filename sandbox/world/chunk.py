"""One chunk of buyers generated with its own RNG: background procurement and the column buffers."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import numpy as np
import pyarrow as pa

from sandbox import patterns as pt
from sandbox.world.catalogue import ITEMS, Item
from sandbox.world.constants import (
    BID_COUNT_WEIGHTS,
    BID_COUNTS,
    COMPETITIVE_METHODS,
    COMPETITIVE_WEIGHTS,
    DATE_FROM,
    LAST_PUBLISH,
    P_AMENDED,
    P_CANCELLED,
    P_DIRECT,
    P_FAILED,
    REJECT_REASONS,
)
from sandbox.world.layout import TABLES, Buf, fmt
from sandbox.world.parties import Party, World, _work_time
from sandbox.world.procurement import ProcurementMixin
from sandbox.world.records import Bid, LotSpec, Proc


class Chunk(ProcurementMixin):
    """Generates everything of one block of buyers with its own RNG."""

    def __init__(self, world: World, index: int, buyers: list[Party]):
        self.world = world
        self.index = index
        self.buyers = buyers
        self.rng = np.random.default_rng([world.plan.seed, 1, index])
        self.bufs = {name: Buf(spec) for name, spec in TABLES.items() if name in _CHUNK_TABLES}
        self.gt: list[dict] = []
        #: (buyer pid, supplier pid) -> sum of small direct awards (kept < split threshold)
        self.small_direct: dict[tuple[int, int], float] = {}
        #: buyer pid -> supplier triples that already bid together in one announcement
        self.triples: dict[int, set[tuple[int, int, int]]] = {}

    # --- helpers -------------------------------------------------------------------------------
    def uniform(self, a: float, b: float) -> float:
        return float(self.rng.uniform(a, b))

    def choice(self, seq: list | tuple, p: list | tuple | None = None):
        if p is None:
            return seq[int(self.rng.integers(len(seq)))]
        w = np.asarray(p, dtype=float)
        return seq[int(self.rng.choice(len(seq), p=w / w.sum()))]

    def item(self) -> Item:
        return ITEMS[int(self.rng.integers(len(ITEMS)))]

    def lot_spec(
        self,
        buyer: Party,
        planned_method: int,
        year: int,
        *,
        item: Item | None = None,
        amount: float | None = None,
    ) -> LotSpec:
        """A lot to buy: an ENSTRU item, a quantity, an expected value and its plan point(s)."""
        item = item or self.item()
        if amount is None:
            amount = float(np.exp(self.rng.normal(np.log(900_000), 1.6)))
            amount = min(max(amount, 20_000.0), 3e9)
        unit_price = round(item.price * self.uniform(0.85, 1.15), 2)
        quantity = max(1.0, round(amount / unit_price))
        amount = round(quantity * unit_price, 2)
        n_points = 2 if self.rng.random() < 0.1 else 1
        plan_ids = [
            self.plan_point(buyer, item, quantity / n_points, unit_price, planned_method, year)
            for _ in range(n_points)
        ]
        return LotSpec(item, quantity, amount, plan_ids, planned_method)

    def plan_point(self, buyer: Party, item: Item, count: float, price: float, method: int, year: int) -> int:
        pid = self.world.new_id("plans")
        created = _work_time(
            self.rng, dt.datetime(year - 1, 12, 1) + dt.timedelta(days=int(self.rng.integers(45)))
        )
        stamp = created + dt.timedelta(days=int(self.rng.integers(1, 30)))
        self.bufs["plans"].add(
            id=pid,
            subject_biin=buyer.biin,
            name_ru=item.name_ru,
            ref_trade_methods_id=method,
            ref_units_code=item.unit,
            count=count,
            price=price,
            amount=round(count * price, 2),
            ref_months_id=int(self.rng.integers(1, 13)),
            ref_pln_point_status_id=2,
            pln_point_year=year,
            ref_subject_type_id=item.subject_type,
            ref_enstru_code=item.code,
            ref_finsource_id=int(self.choice([1, 2, 2, 3])),
            is_qvazi=int(buyer.name_ru.startswith("КГП")),
            date_create=fmt(created),
            timestamp=fmt(stamp),
            is_active=1,
            is_deleted=0,
        )
        self.bufs["plans_kato"].add(
            pln_point_id=pid,
            id=self.world.new_id("plans_kato"),
            ref_kato_code=buyer.kato,
            ref_countries_code="KZ",
            full_delivery_place_name_ru=buyer.address,
            count=count,
        )
        return pid

    def pick_bidders(self, buyer: Party, k: int, *, fixed: list[Party] = ()) -> list[Party]:
        """``k`` distinct background bidders (plus ``fixed``) whose triples are new for this buyer."""
        seen = self.triples.setdefault(buyer.pid, set())
        sup = self.world.suppliers
        local = self.world.by_region[buyer.region]
        for attempt in range(40):
            kk = k if attempt < 30 else max(2 - len(fixed), 0)
            chosen = list(fixed)
            pids = {p.pid for p in chosen}
            while len(chosen) < kk + len(fixed):
                idx = (
                    self.choice(local)
                    if (local and self.rng.random() < 0.5)
                    else int(self.rng.integers(len(sup)))
                )
                p = sup[idx]
                if p.pid not in pids:
                    chosen.append(p)
                    pids.add(p.pid)
            if not any(t in seen for t in itertools.combinations(sorted(pids), 3)):
                return chosen
        raise RuntimeError(f"no fresh bidder set for buyer {buyer.pid}")  # pragma: no cover

    def pick_direct_supplier(self, buyer: Party, value: float) -> tuple[Party, float]:
        """A background supplier for a direct award; keeps each pair's small awards under the threshold."""
        sup = self.world.suppliers
        local = self.world.by_region[buyer.region]
        for _ in range(30):
            idx = (
                self.choice(local)
                if (local and self.rng.random() < 0.7)
                else int(self.rng.integers(len(sup)))
            )
            p = sup[idx]
            if value >= pt.SPLIT_THRESHOLD_KZT:
                return p, value
            key = (buyer.pid, p.pid)
            if self.small_direct.get(key, 0.0) + value < pt.SPLIT_THRESHOLD_KZT * pt.BG_SPLIT_HEADROOM:
                self.small_direct[key] = self.small_direct.get(key, 0.0) + value
                return p, value
        return p, round(pt.SPLIT_THRESHOLD_KZT * self.uniform(1.05, 2.0), 2)

    def bg_prices(self, amount: float, n: int, lo: float = 0.78, hi: float = 0.99) -> list[float]:
        """``n`` distinct bid prices between ``lo`` and ``hi`` times the expected amount."""
        out: set[float] = set()
        while len(out) < n:
            out.add(round(amount * self.uniform(lo, hi), 2))
        return sorted(out)

    def bg_bids(self, buyer: Party, spec: LotSpec, k: int, *, fixed: list[Party] = ()) -> list[Bid]:
        """Background bids: distinct prices, the lowest admitted, >= 2 admitted."""
        parties = self.pick_bidders(buyer, k - len(fixed), fixed=list(fixed))
        order = [int(i) for i in self.rng.permutation(len(parties))]
        prices = self.bg_prices(spec.amount, len(parties))
        bids = [Bid(parties[i], prices[j]) for j, i in enumerate(order)]
        for b in bids[2:]:
            if self.rng.random() < 0.12:
                b.status, b.reject_reason = 2, self.choice(REJECT_REASONS)
        return bids

    def register_triples(self, buyer: Party, bid_sets: list[list[Bid]]) -> None:
        seen = self.triples.setdefault(buyer.pid, set())
        for bids in bid_sets:
            seen.update(itertools.combinations(sorted({b.supplier.pid for b in bids}), 3))

    # --- background -----------------------------------------------------------------------------
    def background(self, buyer: Party, n_announcements: int) -> None:
        """The ordinary procurement of one buyer over the two years."""
        rng = self.rng
        span = (LAST_PUBLISH - DATE_FROM).total_seconds()
        starts = sorted(
            DATE_FROM + dt.timedelta(seconds=float(s)) for s in rng.uniform(0, span, n_announcements)
        )
        for publish in starts:
            publish = _work_time(rng, publish)
            r = rng.random()
            if r < P_DIRECT:
                self.direct(buyer, publish)
            else:
                self.competitive(buyer, publish)
        # plan points never procured (yet)
        for _ in range(max(1, n_announcements // 10)):
            item = self.item()
            self.plan_point(
                buyer,
                item,
                float(rng.integers(1, 100)),
                round(item.price * self.uniform(0.9, 1.1), 2),
                int(self.choice([3, 23, 2])),
                int(self.choice([2023, 2024])),
            )

    def direct(self, buyer: Party, publish: dt.datetime, **kw: Any) -> Proc:
        spec = self.lot_spec(buyer, 23, publish.year)
        value = round(spec.amount * self.uniform(0.86, 1.0), 2)
        spec.winner, spec.award = self.pick_direct_supplier(buyer, value)
        return self.procure(buyer, 23, publish, [spec], **kw)

    def competitive(self, buyer: Party, publish: dt.datetime) -> None:
        rng = self.rng
        method = int(self.choice(COMPETITIVE_METHODS, COMPETITIVE_WEIGHTS))
        n_lots = 1 + int(rng.poisson(1.6))
        specs = [self.lot_spec(buyer, method, publish.year) for _ in range(n_lots)]
        r = rng.random()
        if r < P_CANCELLED:
            self.procure(buyer, method, publish, specs, outcome="cancelled")
            return
        if r < P_CANCELLED + P_FAILED:
            for spec in specs:  # 0 or 1 bid per lot: the tender fails
                if rng.random() < 0.5:
                    p = self.pick_bidders(buyer, 1)[0]
                    spec.bids = [Bid(p, self.bg_prices(spec.amount, 1)[0])]
            failed = self.procure(buyer, method, publish, specs, outcome="failed")
            # the same items again, single source (method 6), to one supplier
            repub = _work_time(rng, failed.end + dt.timedelta(days=self.uniform(3, 15)))
            value_total = sum(s.amount for s in specs) * 0.93
            lone = next((b.supplier for s in specs for b in (s.bids or [])), None)
            supplier, _ = self.pick_direct_supplier(buyer, pt.SPLIT_THRESHOLD_KZT * 2)
            if lone is not None and rng.random() < 0.5:
                supplier = lone
            new_specs = []
            for s in specs:
                value = round(s.amount * self.uniform(0.86, 1.0), 2)
                if value < pt.SPLIT_THRESHOLD_KZT:
                    key = (buyer.pid, supplier.pid)
                    if (
                        self.small_direct.get(key, 0.0) + value
                        >= pt.SPLIT_THRESHOLD_KZT * pt.BG_SPLIT_HEADROOM
                    ):
                        value = round(max(value_total, pt.SPLIT_THRESHOLD_KZT) * self.uniform(1.05, 1.5), 2)
                    else:
                        self.small_direct[key] = self.small_direct.get(key, 0.0) + value
                new_specs.append(
                    LotSpec(
                        s.item,
                        s.quantity,
                        s.amount,
                        s.plan_ids,
                        s.planned_method,
                        winner=supplier,
                        award=value,
                    )
                )
            self.procure(buyer, 6, repub, new_specs, parent_id=failed.trd_buy_id)
            return
        for spec in specs:
            spec.bids = self.bg_bids(buyer, spec, int(self.choice(BID_COUNTS, BID_COUNT_WEIGHTS)))
        amend = None
        if rng.random() < P_AMENDED:
            amend = [round(self.uniform(0.95, 1.1), 4) for _ in range(int(rng.integers(1, 3)))]
        self.procure(buyer, method, publish, specs, amendments=amend)

    def tables(self) -> dict[str, pa.Table]:
        return {name: buf.arrow() for name, buf in self.bufs.items()}


_CHUNK_TABLES = (
    "plans",
    "plans_kato",
    "trd_buy",
    "lots",
    "trd_app",
    "app_lots",
    "offers",
    "contract",
    "contract_units",
    "treasury_pay",
    "acts",
)
