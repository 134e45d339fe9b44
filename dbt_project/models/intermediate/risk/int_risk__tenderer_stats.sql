-- Per tenderer (party id), over the bids of non-cancelled processes: submitted, disqualified and
-- valid bids (R038), and the decided lots (lots with an active award) it made a valid bid on, with
-- how many it won (R025: win ratio = lots won / decided lots bid on; valid_decided_bids counts lots).
with bids as (
    select b.*, l.is_awarded
    from {{ ref('int_risk__bids') }} as b
    inner join {{ ref('int_risk__processes') }} as p on p.ocid = b.ocid
    left join {{ ref('int_risk__lots') }} as l on l.ocid = b.ocid and l.lot_id = b.lot_id
    where not p.is_cancelled and b.tenderer_id is not null
)

select
    tenderer_id,
    count(*) as submitted_bids,
    count(*) filter (where is_disqualified) as disqualified_bids,
    count(*) filter (where is_valid) as valid_bids,
    -- R025 counts lots, not bids (as Cardinal counts processes): several valid bids of one tenderer on
    -- one lot are one attempt, won or lost
    count(distinct ocid || chr(31) || coalesce(lot_id, '')) filter (where is_valid and coalesce(is_awarded, false))
        as valid_decided_bids,
    count(distinct ocid || chr(31) || coalesce(lot_id, '')) filter (where is_valid and coalesce(is_awarded, false) and is_winner)
        as winning_bids,
    count(distinct ocid) as processes,
    {{ risk_id_list('case when is_disqualified then ocid end') }} as disqualified_ocids,
    {{ risk_id_list('case when is_disqualified then bid_id end') }} as disqualified_bid_ids,
    {{ risk_id_list('case when is_valid and coalesce(is_awarded, false) and not is_winner then ocid end') }}
        as lost_ocids,
    {{ risk_id_list('case when is_valid and coalesce(is_awarded, false) and not is_winner then bid_id end') }}
        as lost_bid_ids
from bids
group by tenderer_id
