-- One row per submitted bid (one tenderer's bid on one lot): price, validity, date, and whether its
-- tenderer is a supplier of an active award on the lot (the bid won).
select
    b.ocid,
    b.related_lot as lot_id,
    b.id as bid_id,
    b.tenderer_id,
    b.value_amount as price,
    b.status = 'disqualified' as is_disqualified,
    -- valid = status valid: a pending (submitted, not yet evaluated) bid is neither valid nor
    -- disqualified (Cardinal's reading of OCDS bid statuses)
    b.status = 'valid' as is_valid,
    b.date as submitted_at,
    coalesce(list_contains(l.supplier_ids, b.tenderer_id), false) as is_winner
from {{ risk_input('bids') }} as b
left join {{ ref('int_risk__lots') }} as l on l.ocid = b.ocid and l.lot_id = b.related_lot
