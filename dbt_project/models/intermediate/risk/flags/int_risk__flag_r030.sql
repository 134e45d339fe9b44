-- R030 Late bid won (Cardinal R030), per lot. Item = an awarded lot of a not cancelled process of
-- var risk_bid_flag_methods: flagged when a valid bid of a supplier of the lot's active awards was
-- received after the submission deadline (var risk_r003_deadline: the later of the tender period end and the repeat end, or the end).
-- Value = hours after the deadline of the latest such bid (negative: before). Several suppliers:
-- every winner's bids count. Not computable without the deadline or the winners' bid dates.
with lots as (
    select l.ocid, l.lot_id, l.award_ids, p.tender_end_at
    from {{ ref('int_risk__lots') }} as l
    inner join {{ ref('int_risk__processes') }} as p on p.ocid = l.ocid
    where l.is_awarded and p.is_bid_compared and not p.is_cancelled
),

winning_bids as (
    select
        b.ocid,
        b.lot_id,
        count(*) as bids,
        count(b.submitted_at) as dated_bids,
        max(b.submitted_at) as latest_at,
        {{ risk_id_list('b.bid_id') }} as bid_ids,
        {{ risk_id_list('b.tenderer_id') }} as tenderer_ids
    from {{ ref('int_risk__bids') }} as b
    where b.is_winner and b.is_valid
    group by b.ocid, b.lot_id
),

items as (
    select
        l.ocid,
        l.lot_id as object_id,
        l.tender_end_at is not null and coalesce(w.dated_bids, 0) > 0 and w.dated_bids = w.bids as computable,
        w.latest_at > l.tender_end_at as flagged,
        {{ risk_days('l.tender_end_at', 'w.latest_at') }} * 24 as value,
        0 as threshold,
        {{ risk_days('l.tender_end_at', 'w.latest_at') }} * 24 as severity,
        [l.lot_id] as lot_ids,
        w.bid_ids,
        l.award_ids as contract_ids,
        w.tenderer_ids as party_ids,
        json_object(
            'lot_id', l.lot_id,
            'deadline', {{ risk_ts('l.tender_end_at') }},
            'winning_bid_received', {{ risk_ts('w.latest_at') }}
        ) as detail,
        case
            when l.tender_end_at is null then 'no submission deadline'
            when w.bids is null then 'no valid bid of the winner on the lot'
            when w.dated_bids < w.bids then 'a winning bid has no date'
        end as note
    from lots as l
    left join winning_bids as w on w.ocid = l.ocid and w.lot_id = l.lot_id
)

{{ risk_items_select('items', 'R030', 'lot') }}
