-- R025 Excessive unsuccessful bids (Cardinal R025), tenderer grain. Win ratio = winning bids /
-- valid bids on decided lots (lots with an active award). A top tenderer (valid bids >= the
-- var risk_r025_percentile quantile of all tenderers' valid bids) is flagged when its ratio is
-- <= Q1 - k IQR of all ratios (and below Q1). Not computable without a valid bid on a decided lot.
with top as (
    select percentile_value from {{ ref('int_risk__fences') }} where flag_code = 'R025' and metric = 'valid_bids'
),

fence as (
    select * from {{ ref('int_risk__fences') }} where flag_code = 'R025' and metric = 'win_ratio'
),

orgs as (
    select
        s.tenderer_id as party_id,
        s.valid_decided_bids > 0 and f.lower_fence is not null as computable,
        s.valid_decided_bids >= t.percentile_value
        and {{ risk_beyond_fence('s.winning_bids / s.valid_decided_bids', 'f.lower_fence', 'f.q1', 'f.q3', 'lower') }}
            as flagged,
        s.winning_bids / nullif(s.valid_decided_bids, 0) as value,
        f.lower_fence as threshold,
        s.lost_ocids as ocids,
        null as contract_ids,
        s.lost_bid_ids as bid_ids,
        null as party_ids,
        json_object(
            'valid_bids', s.valid_decided_bids,
            'winning_bids', s.winning_bids,
            'top_tenderer_min_bids', t.percentile_value,
            'q1', f.q1,
            'q3', f.q3,
            'lower_fence', f.lower_fence
        ) as evidence,
        case
            when s.valid_decided_bids = 0 then 'no valid bid on a decided lot'
            when s.valid_decided_bids < t.percentile_value then 'not a top tenderer'
        end as note
    from {{ ref('int_risk__tenderer_stats') }} as s
    left join top as t on true
    left join fence as f on true
)

{{ risk_org_select('orgs', 'R025', 'tenderer') }}
