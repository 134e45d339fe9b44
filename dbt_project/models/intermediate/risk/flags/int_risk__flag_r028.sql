-- R028 Identical bid prices (Cardinal R028), per lot. Item = a lot with at least two bids in a
-- not cancelled process whose bids are compared on price (vars risk_bid_flag_methods,
-- risk_no_price_comparison_method_details): flagged when two or more different tenderers bid the same
-- price. Value = the largest number of tenderers sharing one price. Evidence: the tied bids and
-- tenderers. Not computable when fewer than two bids carry a price.
with bids as (
    select b.*
    from {{ ref('int_risk__bids') }} as b
    inner join {{ ref('int_risk__processes') }} as p on p.ocid = b.ocid
    where p.is_bid_compared and p.is_price_compared and not p.is_cancelled
),

lots as (
    select ocid, lot_id, count(*) as bids, count(price) as priced_bids, {{ risk_id_list('tenderer_id') }} as tenderer_ids
    from bids
    group by ocid, lot_id
    having count(*) >= 2
),

ties as (
    select
        ocid,
        lot_id,
        price,
        count(distinct tenderer_id) as tenderers,
        {{ risk_id_list('bid_id') }} as bid_ids,
        {{ risk_id_list('tenderer_id') }} as tenderer_ids
    from bids
    where price is not null and tenderer_id is not null
    group by ocid, lot_id, price
    having count(distinct tenderer_id) >= 2
),

lot_ties as (
    select
        ocid,
        lot_id,
        max(tenderers) as tenderers,
        list_sort(list_distinct(flatten(list(bid_ids)))) as bid_ids,
        list_sort(list_distinct(flatten(list(tenderer_ids)))) as tenderer_ids,
        list_sort(list(price)) as prices
    from ties
    group by ocid, lot_id
),

items as (
    select
        l.ocid,
        l.lot_id as object_id,
        l.priced_bids >= 2 as computable,
        t.lot_id is not null as flagged,
        coalesce(t.tenderers, 1) as value,
        2 as threshold,
        coalesce(t.tenderers, 1) as severity,
        [l.lot_id] as lot_ids,
        t.bid_ids,
        null as contract_ids,
        coalesce(t.tenderer_ids, l.tenderer_ids) as party_ids,
        json_object('lot_id', l.lot_id, 'bids', l.bids, 'identical_prices', coalesce(t.prices, [])) as detail,
        case when l.priced_bids < 2 then 'fewer than two bids with a price' end as note
    from lots as l
    left join lot_ties as t on t.ocid = l.ocid and t.lot_id = l.lot_id
)

{{ risk_items_select('items', 'R028', 'lot') }}
