-- R038 Excessive disqualified bids (Cardinal R038), buyer grain: disqualified / submitted bids over
-- the buyer's processes >= Q3 + k IQR of all buyers' ratios (and above Q3, and > 0). Buyers with
-- fewer than var risk_r038_min_processes processes with bids are not computable.
with fence as (
    select * from {{ ref('int_risk__fences') }} where flag_code = 'R038' and metric = 'buyer_disqualified_ratio'
),

orgs as (
    select
        s.buyer_id as party_id,
        {{ risk_r038_buyer_counted('s') }} and s.submitted_bids > 0 and f.upper_fence is not null as computable,
        {{ risk_beyond_fence('s.disqualified_bids / s.submitted_bids', 'f.upper_fence', 'f.q1', 'f.q3', 'upper') }}
        and s.disqualified_bids > 0 as flagged,
        s.disqualified_bids / nullif(s.submitted_bids, 0) as value,
        f.upper_fence as threshold,
        s.disqualified_ocids as ocids,
        null as contract_ids,
        s.disqualified_bid_ids as bid_ids,
        s.disqualified_tenderer_ids as party_ids,
        json_object(
            'processes', s.processes,
            'submitted_bids', s.submitted_bids,
            'disqualified_bids', s.disqualified_bids,
            'q1', f.q1,
            'q3', f.q3,
            'upper_fence', f.upper_fence
        ) as evidence,
        case when not {{ risk_r038_buyer_counted('s') }}
            then 'fewer than {{ var("risk_r038_min_processes") }} {{ "processes with bids" if var("risk_r038_buyer_minimum_of") == "processes" else "submitted bids" }}' end
            as note
    from {{ ref('int_risk__buyer_bid_stats') }} as s
    left join fence as f on true
)

{{ risk_org_select('orgs', 'R038', 'buyer') }}
