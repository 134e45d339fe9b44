-- Per buyer, over the bids its non-cancelled processes received: processes with bids, submitted and
-- disqualified bids (R038, buyer side).
select
    p.buyer_id,
    count(distinct b.ocid) as processes,
    count(*) as submitted_bids,
    count(*) filter (where b.is_disqualified) as disqualified_bids,
    {{ risk_id_list('case when b.is_disqualified then b.ocid end') }} as disqualified_ocids,
    {{ risk_id_list('case when b.is_disqualified then b.bid_id end') }} as disqualified_bid_ids,
    {{ risk_id_list('case when b.is_disqualified then b.tenderer_id end') }} as disqualified_tenderer_ids
from {{ ref('int_risk__bids') }} as b
inner join {{ ref('int_risk__processes') }} as p on p.ocid = b.ocid
where not p.is_cancelled and p.buyer_id is not null
group by p.buyer_id
