-- R024 / R058 measurement: for each decided lot (int_risk__lots.is_decided) of a process whose bids
-- are compared on price (vars risk_bid_flag_methods, risk_no_price_comparison_method_details), the relative gap
-- d = (runner-up - winning bid) / winning bid, where the winning bid is the winner's lowest valid bid
-- and the runner-up is the lowest valid bid of ANOTHER tenderer (as Cardinal: the winner's own
-- second bid is never the runner-up; a bid without a tenderer cannot be told apart, so it is not
-- one). Measured per lot, not per process, so multi-lot processes count (Cardinal excludes
-- processes with several awards). Not measured (note says why) when the lot is awarded to several
-- suppliers or to none, the winner has no valid bid, a valid bid has no price, the winning bid is
-- not the lowest valid one (price-only assumption), no other tenderer has a valid bid, or the
-- winning bid is not positive. Tied lowest valid bids give 0.
with lots as (
    select l.*
    from {{ ref('int_risk__lots') }} as l
    inner join {{ ref('int_risk__processes') }} as p on p.ocid = l.ocid
    where l.is_decided and p.is_bid_compared and p.is_price_compared and not p.is_cancelled
),

valid as (
    select b.ocid, b.lot_id, b.bid_id, b.tenderer_id, b.price
    from {{ ref('int_risk__bids') }} as b
    inner join lots as l on l.ocid = b.ocid and l.lot_id = b.lot_id
    where b.is_valid
),

stats as (
    select ocid, lot_id, count(*) filter (where price is null) as unpriced, min(price) as min_price
    from valid
    group by ocid, lot_id
),

winning as (
    select * from (
        select
            v.*,
            row_number() over (partition by v.ocid, v.lot_id order by v.price nulls last, v.bid_id) as rn
        from valid as v
        inner join lots as l on l.ocid = v.ocid and l.lot_id = v.lot_id
        where len(l.supplier_ids) = 1 and v.tenderer_id = l.supplier_ids[1]
    )
    where rn = 1
),

second as (
    select * from (
        select
            v.*,
            row_number() over (partition by v.ocid, v.lot_id order by v.price nulls last, v.bid_id) as rn
        from valid as v
        inner join winning as w on w.ocid = v.ocid and w.lot_id = v.lot_id
        where v.tenderer_id <> w.tenderer_id
    )
    where rn = 1
),

measured as (
    select
        l.ocid,
        l.lot_id,
        l.award_ids,
        l.supplier_ids,
        w.tenderer_id as winner_id,
        w.bid_id as winning_bid_id,
        w.price as winning_price,
        s.tenderer_id as second_tenderer_id,
        s.bid_id as second_bid_id,
        s.price as second_price,
        case
            when len(l.supplier_ids) = 0 then 'the active award names no supplier'
            when len(l.supplier_ids) > 1 then 'the lot is awarded to ' || len(l.supplier_ids) || ' suppliers'
            when len(l.award_ids) > 1 then 'the lot has ' || len(l.award_ids) || ' active awards'
            when w.bid_id is null then 'the winner has no valid bid on the lot'
            when coalesce(st.unpriced, 0) > 0 then 'a valid bid has no price'
            when w.price > st.min_price then 'the winning bid is not the lowest valid bid (award not price-only)'
            when s.bid_id is null then 'no valid bid of another tenderer'
            when w.price <= 0 then 'the winning bid is not positive'
        end as note
    from lots as l
    left join winning as w on w.ocid = l.ocid and w.lot_id = l.lot_id
    left join second as s on s.ocid = l.ocid and s.lot_id = l.lot_id
    left join stats as st on st.ocid = l.ocid and st.lot_id = l.lot_id
)

select
    *,
    case when note is null then (second_price - winning_price) / winning_price end as gap
from measured
