-- R036 Lowest bid disqualified (Cardinal R036), per lot. Item = an awarded lot of a competitive,
-- not cancelled process with bids: flagged when every bid at the lowest submitted price is
-- disqualified (a tie at the lowest price with a valid bid is not flagged). Value = (lowest valid
-- price - lowest price) / lowest price (NULL when no bid is valid). Not computable when a bid has
-- no price.
with lots as (
    select l.ocid, l.lot_id, l.award_ids
    from {{ ref('int_risk__lots') }} as l
    inner join {{ ref('int_risk__processes') }} as p on p.ocid = l.ocid
    where l.is_awarded and p.is_competitive and not p.is_cancelled
),

bids as (
    select b.*, min(b.price) over (partition by b.ocid, b.lot_id) as min_price
    from {{ ref('int_risk__bids') }} as b
    inner join lots as l on l.ocid = b.ocid and l.lot_id = b.lot_id
),

measured as (
    select
        ocid,
        lot_id,
        count(*) as bids,
        count(*) filter (where price is null) as unpriced,
        min(price) as min_price,
        min(price) filter (where not is_disqualified) as min_valid_price,
        bool_and(is_disqualified) filter (where price = min_price) as lowest_all_disqualified,
        {{ risk_id_list('case when price = min_price then bid_id end') }} as lowest_bid_ids,
        {{ risk_id_list('case when price = min_price then tenderer_id end') }} as lowest_tenderers
    from bids
    group by ocid, lot_id
),

items as (
    select
        m.ocid,
        m.lot_id as object_id,
        m.unpriced = 0 as computable,
        m.lowest_all_disqualified as flagged,
        case when m.min_price > 0 then (m.min_valid_price - m.min_price) / m.min_price end as value,
        0 as threshold,
        case when m.min_price > 0 then coalesce((m.min_valid_price - m.min_price) / m.min_price, 1e9) end as severity,
        [m.lot_id] as lot_ids,
        m.lowest_bid_ids as bid_ids,
        l.award_ids as contract_ids,
        m.lowest_tenderers as party_ids,
        json_object(
            'lot_id', m.lot_id,
            'lowest_price', m.min_price,
            'lowest_valid_price', m.min_valid_price,
            'lowest_bids_disqualified', m.lowest_all_disqualified
        ) as detail,
        case when m.unpriced > 0 then 'a bid has no price' end as note
    from measured as m
    inner join lots as l on l.ocid = m.ocid and l.lot_id = m.lot_id
)

{{ risk_items_select('items', 'R036', 'lot') }}
