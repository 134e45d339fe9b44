"""The cases of one scoring dataset: a broad background, boundary twins, multi-lot announcements and
planted fence outliers (labels from the written definitions, :mod:`tools.scoring.generator`)."""

from __future__ import annotations

import datetime as dt

from tools.scoring.generator import UTC, Bid, Dataset, Generator, Lot, rng

DAY = dt.timedelta(days=1)
CODE_DIVISIONS = [10, 11, 20, 25, 33, 41, 62, 71]


def _background(g: Generator, size: int) -> None:
    r = rng(g.seed, "background")
    suppliers = [f"S{i:03d}" for i in range(60)]
    for s in suppliers:
        recent = r.random() < 0.1
        reg = dt.datetime(2024, 1, 1, tzinfo=UTC) + dt.timedelta(days=r.uniform(0, 700) if recent else -3000)
        g.org(s, registered=reg, vat=r.random() > 0.05)
    for _ in range(size):
        method = r.choices([2, 3, 7, 22, 23, 6, 50], weights=[30, 15, 10, 10, 25, 5, 5])[0]
        start = dt.datetime(2024, 3, 1, tzinfo=UTC) + dt.timedelta(seconds=r.uniform(0, 600 * 86400))
        days = r.uniform(10, 25) if r.random() < 0.6 else r.uniform(15, 40)
        repeat = days + r.uniform(1, 10) if r.random() < 0.1 else None
        after = r.uniform(1, 40) if r.random() < 0.9 else r.choice([r.uniform(0, 1), r.uniform(60, 90)])
        buyer = f"B{r.randrange(12):02d}"
        lots = []
        for _ in range(1 if method in (6, 23, 50) else r.choice([1, 1, 2, 3])):
            planned = round(r.uniform(200_000, 5_000_000))
            winner = r.choice(suppliers)
            price = round(planned * r.uniform(0.6, 1.0), 2)
            if method in (6, 23, 50):
                bids = [Bid(winner, price)]
            else:
                n = r.choices([1, 2, 3, 4, 5], weights=[15, 25, 25, 20, 15])[0]
                others = r.sample([s for s in suppliers if s != winner], n - 1)
                bids = [Bid(winner, price, date=start + dt.timedelta(days=days * r.uniform(0.1, 0.99)))]
                for o in others:
                    bids.append(Bid(o, round(price * (1 + r.uniform(0.2, 0.3)), 2)))
                if others and r.random() < 0.1:  # a cheaper bid disqualified
                    bids.append(Bid(r.choice(others), round(price * 0.9, 2), "disqualified"))
                if r.random() < 0.03:  # the winner's bid arrives late
                    bids[0].date = start + dt.timedelta(days=(repeat or days) + r.uniform(0.01, 2))
            amendments = []
            if r.random() < 0.1:
                when = start + dt.timedelta(days=days + after + 10)
                for _ in range(r.randint(1, 4)):
                    when += dt.timedelta(days=r.uniform(5, 60))
                    amendments.append((when, round(price * r.uniform(0.9, 1.5), 2)))
            vat = 0.0 if not g.orgs[winner]["is_vat_payer"] and r.random() < 0.7 else 0.12
            planned_method = r.choice([2, 3]) if method in (2, 3) and r.random() < 0.05 else None
            codes = [f"{c}1010.100.000001" for c in r.sample(CODE_DIVISIONS, r.choice([1, 1, 1, 2, 3]))]
            lots.append(
                Lot(
                    bids,
                    winner,
                    planned=planned,
                    amendments=amendments,
                    vat_rate=vat,
                    planned_method=planned_method,
                    codes=codes,
                )
            )
        parent = None
        if method == 23 and r.random() < 0.1:
            parent = g.process(
                method=2,
                lots=[Lot([Bid("S000", 100.0, "disqualified")], None)],
                start=start - 40 * DAY,
                days=20,
                buyer=buyer,
                status="unsuccessful",
            )
        ocid = g.process(
            method=method,
            lots=lots,
            start=start,
            days=days,
            repeat_days=repeat,
            award_after_days=after,
            buyer=buyer,
            parent=parent,
        )
        _label_gaps(g, ocid, lots, planted=None)


def _label_gaps(g: Generator, ocid: str, lots: list[Lot], planted: str | None) -> None:
    """R024 / R058 scope: processes with a lot whose gap is measured (winner = lowest valid bid,
    another tenderer with a valid bid). Background gaps lie in [0.2, 0.3]; a planted outlier's label
    is fixed here, when it is planted."""
    measured = False
    for lot in lots:
        valid = [b for b in lot.bids if b.status == "valid" and b.price is not None]
        own = [b.price for b in valid if b.tenderer == lot.winner]
        others = [b.price for b in valid if b.tenderer != lot.winner]
        if lot.winner and own and others and min(own) <= min(b.price for b in valid):
            measured = True
    if measured and g.d.rows["tenders"][-1]["procurement_method"] in ("open", "selective"):
        g.d.label("R024", ocid, planted == "R024")
        g.d.label("R058", ocid, planted == "R058")


def _outliers(g: Generator, count: int) -> None:
    r = rng(g.seed, "outliers")
    for i in range(count):
        for flag, gap in (("R024", r.uniform(0.0, 0.01)), ("R058", r.uniform(1.0, 3.0))):
            price = round(r.uniform(300_000, 3_000_000), 2)
            start = dt.datetime(2024, 6, 1, 6, tzinfo=UTC) + i * 3 * DAY
            lots = [
                Lot(
                    [
                        Bid("W1", price),
                        Bid("W2", round(price * (1 + gap), 2)),
                        Bid("W3", round(price * (1 + gap) * 1.1, 2)),
                    ],
                    "W1",
                    planned=price * 1.1,
                )
            ]
            ocid = g.process(method=2, lots=lots, start=start, days=20, award_after_days=5)
            _label_gaps(g, ocid, lots, planted=flag)


def _twins(g: Generator) -> None:
    # R003: 14 d 23:59, 15 d, 15.5 d from 00:30 Almaty (19:30 UTC the day before): across UTC midnight
    for days in (14 + 1439 / 1440, 15, 15.5):
        g.process(
            method=3,
            lots=[Lot([Bid("T1", 900_000.0), Bid("T2", 1_125_000.0)], "T1")],
            start=dt.datetime(2024, 5, 10, 19, 30, tzinfo=UTC),
            days=days,
        )
    # R003 with a repeat deadline: 10 days, reopened to 16 -> not short
    g.process(
        method=2,
        lots=[Lot([Bid("T1", 900_000.0), Bid("T2", 1_125_000.0)], "T1")],
        start=dt.datetime(2024, 7, 1, 4, tzinfo=UTC),
        days=10,
        repeat_days=16,
    )
    # R055: amounts at the threshold +-1 KZT (pairs of direct contracts, 30 days apart)
    noon = dt.datetime(2024, 4, 1, 12, tzinfo=UTC)
    for i, (a, b) in enumerate(((1_500_000, 1_499_999), (1_500_000, 1_500_000), (1_500_000, 1_500_001))):
        for k, amount in enumerate((a, b)):
            g.process(
                method=23,
                lots=[Lot([Bid(f"P{i}", float(amount))], f"P{i}", planned=amount)],
                start=noon + k * 30 * DAY,
                days=1,
                buyer=f"BP{i}",
            )
    # R055: 365 vs 366 days apart (signing dates), 1.6M each
    for i, gap in enumerate((365, 366)):
        for k in range(2):
            g.process(
                method=23,
                lots=[Lot([Bid(f"Q{i}", 1_600_000.0)], f"Q{i}", planned=1_600_000)],
                start=noon + k * gap * DAY,
                days=1,
                award_after_days=1,
                buyer=f"BQ{i}",
            )
    # NEW_COMPANY: registered 364, 365, 366 days before the award
    for days in (364, 365, 366):
        start = dt.datetime(2025, 2, 1, 6, tzinfo=UTC)
        award = start + 20 * DAY + 5 * DAY
        g.org(f"N{days}", registered=award - days * DAY)
        g.process(
            method=2,
            lots=[Lot([Bid(f"N{days}", 800_000.0), Bid("T2", 1_000_000.0)], f"N{days}")],
            start=start,
            days=20,
            award_after_days=5,
        )
    # DECISION_PERIOD: 0.99, 1, 60, 60.01 days from the deadline to the award
    for after in (0.99, 1, 60, 60.01):
        g.process(
            method=2,
            lots=[Lot([Bid("T1", 800_000.0), Bid("T2", 1_000_000.0)], "T1")],
            start=dt.datetime(2024, 8, 1, 6, tzinfo=UTC),
            days=20,
            award_after_days=after,
        )
    # OVERSTATED_VALUE: awarded / planned at 0.7 -+ 1 KZT
    for awarded in (699_999.0, 700_000.0, 700_001.0):
        g.process(
            method=2,
            lots=[Lot([Bid("T1", awarded), Bid("T2", awarded * 1.25)], "T1", planned=1_000_000.0)],
            start=dt.datetime(2024, 9, 1, 6, tzinfo=UTC),
            days=20,
        )
    # DEBARRED_WINNER: an entry in force on the award date, one ended the day before
    g.debar("D1", dt.datetime(2024, 1, 1, tzinfo=UTC), None)
    g.debar("D2", dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2024, 10, 25, tzinfo=UTC))
    for s in ("D1", "D2"):
        g.process(
            method=2,
            lots=[Lot([Bid(s, 800_000.0), Bid("T2", 1_000_000.0)], s)],
            start=dt.datetime(2024, 10, 1, 6, tzinfo=UTC),
            days=20,
            award_after_days=5,
        )
    # MANY_AMENDMENTS 2 vs 3, AMENDMENT_VALUE_INCREASE at 1.3 x -+ 1 KZT
    base = dt.datetime(2024, 11, 1, 6, tzinfo=UTC)
    for amendments in (
        [(base + 40 * DAY, 800_000.0), (base + 50 * DAY, 810_000.0)],
        [(base + 40 * DAY, 800_000.0), (base + 50 * DAY, 810_000.0), (base + 60 * DAY, 820_000.0)],
        [(base + 40 * DAY, 1_039_999.0)],
        [(base + 40 * DAY, 1_040_000.0)],
    ):
        g.process(
            method=2,
            lots=[Lot([Bid("T1", 800_000.0), Bid("T2", 1_000_000.0)], "T1", amendments=amendments)],
            start=base,
            days=20,
        )


def _dependence_and_changes(g: Generator) -> None:
    # FREQUENT_PRICE_CHANGES: two value changes 90 vs 91 days apart; an amendment that keeps the value
    base = dt.datetime(2024, 12, 2, 6, tzinfo=UTC)
    for amendments in (
        [(base + 30 * DAY, 810_000.0), (base + 120 * DAY, 820_000.0)],
        [(base + 30 * DAY, 810_000.0), (base + 121 * DAY, 820_000.0)],
        [(base + 30 * DAY, 800_000.0), (base + 40 * DAY, 820_000.0)],
    ):
        g.process(
            method=2,
            lots=[Lot([Bid("T1", 800_000.0), Bid("T2", 1_000_000.0)], "T1", amendments=amendments)],
            start=base,
            days=20,
        )
    # BUYER_DEPENDENCE: buyer-years of 10 contracts (computable) and 9 (not); one supplier's share at
    # exactly half, and just below half
    for buyer, n, big in (("BD1", 10, 900_000.0), ("BD2", 10, 899_999.0), ("BD3", 9, 2_000_000.0)):
        for k in range(n):
            price = big if k == 0 else 100_000.0
            supplier = "DS1" if k == 0 else f"DS{k + 1}"
            g.process(
                method=23,
                lots=[Lot([Bid(supplier, price)], supplier, planned=price)],
                start=dt.datetime(2025, 4, 1, 6, tzinfo=UTC) + k * DAY,
                days=1,
                buyer=buyer,
            )


def _product_codes(g: Generator) -> None:
    # MANY_PRODUCT_CODES: one buyer-supplier pair with 3 vs 4 distinct code prefixes in a year (and a
    # fourth code in the next local year: 00:30 Almaty on 1 January is still 31 December in UTC)
    for i, divisions in enumerate(((10, 11, 20), (10, 11, 20, 25))):
        for k, div in enumerate(divisions):
            g.process(
                method=23,
                lots=[
                    Lot(
                        [Bid(f"PC{i}", 100_000.0)],
                        f"PC{i}",
                        planned=100_000.0,
                        codes=[f"{div}1010.100.000001"],
                    )
                ],
                start=dt.datetime(2024, 5, 1, 6, tzinfo=UTC) + k * 10 * DAY,
                days=1,
                buyer=f"BPC{i}",
            )
    g.process(
        method=23,
        lots=[Lot([Bid("PC0", 100_000.0)], "PC0", planned=100_000.0, codes=["331010.100.000001"])],
        start=dt.datetime(2024, 12, 31, 19, 30, tzinfo=UTC) - 6 * DAY,
        days=1,
        award_after_days=5,
        buyer="BPC0",
    )


def _multi_lot(g: Generator) -> None:
    start = dt.datetime(2025, 3, 3, 5, tzinfo=UTC)
    # a single-bid lot beside two competitive ones
    g.process(
        method=2,
        start=start,
        days=20,
        lots=[
            Lot([Bid("M1", 500_000.0)], "M1"),
            Lot([Bid("M2", 400_000.0), Bid("M3", 500_000.0)], "M2"),
            Lot([Bid("M3", 300_000.0), Bid("M4", 375_000.0), Bid("M2", 380_000.0)], "M3"),
        ],
    )
    # a winner with two bids: the runner-up is the other tenderer (gap 0.25, not 0.0001)
    lots = [Lot([Bid("M1", 100_000.0), Bid("M1", 100_010.0), Bid("M2", 125_000.0)], "M1")]
    ocid = g.process(method=2, start=start, days=20, lots=lots)
    _label_gaps(g, ocid, lots, planted=None)
    # equal prices on different lots: not identical bid prices
    g.process(
        method=2,
        start=start,
        days=20,
        lots=[
            Lot([Bid("M1", 500_000.0), Bid("M2", 625_000.0)], "M1"),
            Lot([Bid("M3", 500_000.0), Bid("M4", 620_000.0)], "M3"),
        ],
    )
    # a tie between a valid and a disqualified lowest bid: not R036 (R028: two tenderers, one price)
    g.process(
        method=2,
        start=start,
        days=20,
        lots=[
            Lot([Bid("M1", 100_000.0), Bid("M2", 100_000.0, "disqualified"), Bid("M3", 125_000.0)], "M1"),
        ],
    )
    # the lowest bid disqualified on one lot of three
    g.process(
        method=22,
        start=start,
        days=20,
        lots=[
            Lot([Bid("M1", 200_000.0), Bid("M2", 250_000.0)], "M1"),
            Lot([Bid("M3", 90_000.0, "disqualified"), Bid("M4", 100_000.0), Bid("M5", 124_000.0)], "M4"),
            Lot([Bid("M2", 300_000.0), Bid("M5", 370_000.0)], "M2"),
        ],
    )
    # all but the winner disqualified on one lot, beside a normal lot
    g.process(
        method=2,
        start=start,
        days=20,
        lots=[
            Lot(
                [
                    Bid("M1", 200_000.0),
                    Bid("M2", 190_000.0, "disqualified"),
                    Bid("M3", 195_000.0, "disqualified"),
                ],
                "M1",
            ),
            Lot([Bid("M4", 300_000.0), Bid("M5", 370_000.0)], "M4"),
        ],
    )


def build(seed: int, size: int = 300) -> Dataset:
    """One labelled dataset: background of ``size`` announcements, twins, multi-lot cases, outliers."""
    g = Generator(seed)
    _twins(g)
    _multi_lot(g)
    _dependence_and_changes(g)
    _product_codes(g)
    _background(g, size)
    _outliers(g, max(3, size // 40))
    return g.finish()
