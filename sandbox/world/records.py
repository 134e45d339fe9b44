"""What a procurement procedure is made of while it is generated: bids, lot specs and the result."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sandbox.world.catalogue import Item
from sandbox.world.parties import Party

# One chunk of buyers: announcements, lots, bids, contracts ...
# ================================================================================================


@dataclass
class Bid:
    supplier: Party
    price: float
    status: int = 1  # 1 admitted, 2 rejected
    reject_reason: str | None = None
    late_hours: float | None = None  # date_apply = tender end_date + this (late bids)


@dataclass
class LotSpec:
    item: Item
    quantity: float
    amount: float  # expected value (planned amount)
    plan_ids: list[int]
    planned_method: int
    bids: list[Bid] | None = None
    winner: Party | None = None  # direct awards
    award: float | None = None  # contract value without VAT


@dataclass
class Proc:
    """What :meth:`Chunk.procure` made (patterns read it to record ground truth)."""

    trd_buy_id: int
    number_anno: str
    method: int
    start: dt.datetime
    end: dt.datetime
    lots: list[int]
    specs: list[LotSpec]
    contracts: list[int] = field(default_factory=list)  # one per awarded lot, in lot order
    winners: list[Party] = field(default_factory=list)
    apps: dict[int, int] = field(default_factory=dict)  # supplier pid -> trd_app id
    sign_dates: list[dt.datetime] = field(default_factory=list)
    sums: list[float] = field(default_factory=list)
