-- R018 Single bid (Cardinal R018), per lot. Item = an awarded lot (active award) of a competitive
-- (var risk_competitive_methods), not cancelled process: flagged when exactly one tenderer bid on
-- it. Not computable when no bid of a known tenderer is published for the awarded lot.
with lots as (
    select l.*
    from {{ ref('int_risk__lots') }} as l
    inner join {{ ref('int_risk__processes') }} as p on p.ocid = l.ocid
    where l.is_awarded and p.is_competitive and not p.is_cancelled
),

bids as (
    select
        ocid,
        lot_id,
        count(*) as bids,
        count(distinct tenderer_id) as tenderers,
        {{ risk_id_list('bid_id') }} as bid_ids,
        {{ risk_id_list('tenderer_id') }} as tenderer_ids
    from {{ ref('int_risk__bids') }}
    group by ocid, lot_id
),

items as (
    select
        l.ocid,
        l.lot_id as object_id,
        coalesce(b.tenderers, 0) > 0 as computable,
        b.tenderers = 1 as flagged,
        b.tenderers as value,
        1 as threshold,
        -b.tenderers as severity,
        [l.lot_id] as lot_ids,
        b.bid_ids,
        l.award_ids as contract_ids,
        b.tenderer_ids as party_ids,
        json_object('lot_id', l.lot_id, 'tenderers', coalesce(b.tenderers, 0), 'bids', coalesce(b.bids, 0))
            as detail,
        case when coalesce(b.tenderers, 0) = 0 then 'awarded lot without published bids' end as note
    from lots as l
    left join bids as b on b.ocid = l.ocid and b.lot_id = l.lot_id
)

{{ risk_items_select('items', 'R018', 'lot') }}
