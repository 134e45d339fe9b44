"""Planted risk patterns of the sandbox world, and their ground truth.

Why: a risk indicator is only as good as its precision and recall, and those can only be measured
against a world whose answers are known. :mod:`sandbox.world.planting` plants each pattern through
the same :meth:`Chunk.procure` the background uses, and records the ids that are its evidence in the
``ground_truth`` table. This module holds only the thresholds and the reference rules and imports
nothing of the world, so the world reads the thresholds without an import cycle. The background is
generated so that it never meets the rules below (see ``docs/sandbox.md`` for the rule an indicator
must apply and the guarantee about the background).

All thresholds live in the constants block: the docs and the indicators should read them from here.
"""

from __future__ import annotations

# ================================================================================================
# Thresholds (one place: docs/sandbox.md and the indicators refer to these)
# ================================================================================================
#: Planted cases per pattern: CASES_PER_SCALE * scale, at least MIN_CASES.
CASES_PER_SCALE = 18
MIN_CASES = 18
#: Split purchases: direct (methods 6, 23) original contracts, each below this value (contract_sum,
#: without VAT), summing to at least this value for one buyer-supplier pair within the window.
SPLIT_THRESHOLD_KZT = 3_000_000.0
SPLIT_WINDOW_DAYS = 365
#: Background pairs keep their small direct awards below this share of the threshold in total.
BG_SPLIT_HEADROOM = 0.9
#: Short submission period: open tender (methods 2, 3, 7, 188) with end_date - start_date < this.
SHORT_PERIOD_DAYS = 15
BG_MIN_PERIOD_DAYS = 16.0
#: New company: winner registered (subject.regdate) less than this many days before sign_date.
NEW_COMPANY_DAYS = 365
#: Inflated amendments: latest amendment value >= (1 + this) * original value, or this many amendments.
AMENDMENT_RAISE = 0.30
AMENDMENT_COUNT = 3
#: Bid rotation: the same group of RING_MIN_SIZE..RING_MAX_SIZE suppliers all bid in at least
#: RING_MIN_PROCESSES announcements of one buyer, with at least 2 different winners among them.
RING_MIN_SIZE = 3
RING_MAX_SIZE = 4
RING_MIN_PROCESSES = 3
RING_LOTS = (4, 6)
#: Award far below the expected value: contract_sum <= this share of the lot amount.
FAR_BELOW_SHARE = 0.70
#: VAT: contract_sum_wnds > contract_sum * (1 + this) while the supplier's vat_payer = 0.
VAT_TOLERANCE = 0.001
OPEN_METHODS = (2, 3, 7, 188)
DIRECT_METHODS = (6, 23)

REQUIRED_PATTERNS = (
    "split_purchase",
    "single_bid",
    "identical_offers",
    "debarred_winner",
    "new_company",
    "bid_rotation",
    "late_win",
    "inflated_amendment",
)
OPTIONAL_PATTERNS = (
    "short_period",
    "lowest_bid_disqualified",
    "all_but_winner_disqualified",
    "vat_non_payer",
    "method_mismatch",
    "award_far_below",
)
PATTERNS = REQUIRED_PATTERNS + OPTIONAL_PATTERNS


#: pattern -> SQL over the world tables returning ``object_id`` (and for the buyer-supplier grain,
#: ``buyer_pid, supplier_pid``). The tests check that these return exactly the ground truth.
_OPEN = ", ".join(map(str, OPEN_METHODS))
_DIRECT = ", ".join(map(str, DIRECT_METHODS))
_AWARDED_LOTS = "(SELECT DISTINCT u.lot_id FROM contract_units u JOIN contract c ON c.id = u.contract_id)"

RULES: dict[str, str] = {
    "split_purchase": f"""
        WITH small AS (
            SELECT id, customer_id, supplier_id, contract_sum, sign_date::TIMESTAMP AS signed FROM contract
            WHERE parent_id IS NULL AND fakt_trade_methods_id IN ({_DIRECT})
              AND contract_sum < {SPLIT_THRESHOLD_KZT})
        SELECT a.customer_id AS buyer_pid, a.supplier_id AS supplier_pid, min(a.id) AS object_id
        FROM small a JOIN small b ON b.customer_id = a.customer_id AND b.supplier_id = a.supplier_id
          AND b.signed BETWEEN a.signed AND a.signed + INTERVAL {SPLIT_WINDOW_DAYS} DAY
        GROUP BY a.customer_id, a.supplier_id, a.id
        HAVING count(*) >= 2 AND sum(b.contract_sum) >= {SPLIT_THRESHOLD_KZT}""",
    "single_bid": f"""
        SELECT l.id AS object_id FROM lots l JOIN trd_buy b ON b.id = l.trd_buy_id
        WHERE b.ref_trade_methods_id IN ({_OPEN}) AND l.id IN {_AWARDED_LOTS}
          AND (SELECT count(*) FROM app_lots a WHERE a.lot_id = l.id) = 1""",
    "identical_offers": """
        SELECT DISTINCT a.lot_id AS object_id FROM app_lots a JOIN trd_app t ON t.id = a.app_id
        GROUP BY a.lot_id, a.price HAVING count(DISTINCT t.supplier_id) >= 2""",
    "debarred_winner": """
        SELECT DISTINCT c.id AS object_id FROM contract c JOIN rnu r ON r.pid = c.supplier_id
        WHERE c.parent_id IS NULL AND c.sign_date BETWEEN r.start_date AND r.end_date""",
    "new_company": f"""
        SELECT c.id AS object_id FROM contract c JOIN subject s ON s.pid = c.supplier_id
        WHERE c.parent_id IS NULL
          AND c.sign_date::TIMESTAMP < s.regdate::TIMESTAMP + INTERVAL {NEW_COMPANY_DAYS} DAY""",
    "bid_rotation": f"""
        WITH bidders AS (
            SELECT DISTINCT b.customer_pid AS buyer, b.id AS buy_id, al.lot_id, a.supplier_id
            FROM app_lots al JOIN trd_app a ON a.id = al.app_id JOIN trd_buy b ON b.id = a.buy_id),
        triples AS (
            SELECT x.buyer, x.buy_id, x.lot_id, x.supplier_id AS s1, y.supplier_id AS s2, z.supplier_id AS s3
            FROM bidders x
            JOIN bidders y ON y.lot_id = x.lot_id AND y.supplier_id > x.supplier_id
            JOIN bidders z ON z.lot_id = x.lot_id AND z.supplier_id > y.supplier_id),
        groups AS (
            SELECT buyer, s1, s2, s3 FROM triples GROUP BY ALL
            HAVING count(DISTINCT buy_id) >= {RING_MIN_PROCESSES}),
        hits AS (
            SELECT g.*, t.buy_id, t.lot_id, c.supplier_id AS winner FROM groups g
            JOIN triples t USING (buyer, s1, s2, s3)
            LEFT JOIN contract_units u ON u.lot_id = t.lot_id
            LEFT JOIN contract c ON c.id = u.contract_id AND c.parent_id IS NULL
                AND c.supplier_id IN (g.s1, g.s2, g.s3)),
        rings AS (
            SELECT buyer, s1, s2, s3 FROM hits GROUP BY ALL HAVING count(DISTINCT winner) >= 2)
        SELECT DISTINCT h.lot_id AS object_id FROM rings r JOIN hits h USING (buyer, s1, s2, s3)""",
    "late_win": """
        SELECT DISTINCT u.lot_id AS object_id FROM contract c
        JOIN contract_units u ON u.contract_id = c.id
        JOIN trd_buy b ON b.id = c.trd_buy_id
        JOIN trd_app a ON a.buy_id = b.id AND a.supplier_id = c.supplier_id
        WHERE c.parent_id IS NULL AND a.date_apply > b.end_date""",
    "inflated_amendment": f"""
        WITH am AS (
            SELECT root_id, count(*) AS n, arg_max(contract_sum, sign_date || lpad(id::VARCHAR, 12, '0')) AS last_sum
            FROM contract WHERE parent_id IS NOT NULL GROUP BY root_id)
        SELECT c.id AS object_id FROM contract c JOIN am ON am.root_id = c.id
        WHERE am.n >= {AMENDMENT_COUNT} OR am.last_sum >= {1 + AMENDMENT_RAISE} * c.contract_sum""",
    "short_period": f"""
        SELECT id AS object_id FROM trd_buy
        WHERE ref_trade_methods_id IN ({_OPEN}) AND ref_buy_status_id <> 410
          AND end_date::TIMESTAMP < start_date::TIMESTAMP + INTERVAL {SHORT_PERIOD_DAYS} DAY""",
    "lowest_bid_disqualified": f"""
        SELECT lot_id AS object_id FROM app_lots WHERE lot_id IN {_AWARDED_LOTS}
        GROUP BY lot_id HAVING arg_min(status_id, price) = 2""",
    "all_but_winner_disqualified": f"""
        SELECT lot_id AS object_id FROM app_lots WHERE lot_id IN {_AWARDED_LOTS}
        GROUP BY lot_id HAVING count(*) FILTER (status_id = 1) = 1 AND count(*) FILTER (status_id = 2) >= 1""",
    "vat_non_payer": f"""
        SELECT c.id AS object_id FROM contract c JOIN subject s ON s.pid = c.supplier_id
        WHERE c.parent_id IS NULL AND s.vat_payer = 0
          AND c.contract_sum_wnds > c.contract_sum * {1 + VAT_TOLERANCE}""",
    "method_mismatch": """
        SELECT id AS object_id FROM lots
        WHERE ref_trade_methods_id <> ref_buy_trade_methods_id AND ref_buy_trade_methods_id <> 6""",
    "award_far_below": f"""
        SELECT DISTINCT c.id AS object_id FROM contract c
        JOIN contract_units u ON u.contract_id = c.id JOIN lots l ON l.id = u.lot_id
        WHERE c.parent_id IS NULL AND c.contract_sum <= {FAR_BELOW_SHARE} * l.amount""",
}
