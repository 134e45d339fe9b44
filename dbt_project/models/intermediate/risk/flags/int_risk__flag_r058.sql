-- R058 Heavily discounted bid (Cardinal R058), per lot: the gap d = (second-lowest valid bid -
-- winning bid) / winning bid (int_risk__lot_bid_gaps) is a high outlier: d >= Q3 + k IQR (and
-- above Q3, so a degenerate distribution with IQR 0 flags nothing). Fences: int_risk__fences.
-- Not computable when the gap is not measured (the note of int_risk__lot_bid_gaps says why).
with fence as (
    select * from {{ ref('int_risk__fences') }} where flag_code = 'R058' and metric = 'bid_gap'
),

items as (
    select
        g.ocid,
        g.lot_id as object_id,
        g.gap is not null and f.upper_fence is not null as computable,
        {{ risk_beyond_fence('g.gap', 'f.upper_fence', 'f.q1', 'f.q3', 'upper') }} as flagged,
        g.gap as value,
        f.upper_fence as threshold,
        g.gap as severity,
        [g.lot_id] as lot_ids,
        list_filter([g.winning_bid_id, g.second_bid_id], lambda x: x is not null) as bid_ids,
        g.award_ids as contract_ids,
        list_sort(list_filter([g.winner_id, g.second_tenderer_id], lambda x: x is not null)) as party_ids,
        json_object(
            'lot_id', g.lot_id,
            'winning_bid_id', g.winning_bid_id,
            'winning_bid', g.winning_price,
            'second_bid_id', g.second_bid_id,
            'second_bid', g.second_price,
            'gap', g.gap,
            'q1', f.q1,
            'q3', f.q3,
            'upper_fence', f.upper_fence
        ) as detail,
        coalesce(g.note, case when f.upper_fence is null then 'no fence: no lot has a measurable gap' end) as note
    from {{ ref('int_risk__lot_bid_gaps') }} as g
    left join fence as f on true
)

{{ risk_items_select('items', 'R058', 'lot') }}
