-- R018 Single bid (Cardinal R018), per lot. Item = an awarded lot (active award; every lot when var
-- risk_r018_awarded_only is false, as Cardinal) of a competitive (var risk_competitive_methods), not
-- cancelled process: flagged when exactly one tenderer bid on it. Tenderers = distinct tenderers of
-- the lot's bids; a single-lot process without published bids uses tender.numberOfTenderers (what
-- Cardinal reads). Not computable when neither is known.
with lots as (
    select l.*, p.number_of_tenderers, count(*) over (partition by l.ocid) as process_lots
    from {{ ref('int_risk__lots') }} as l
    inner join {{ ref('int_risk__processes') }} as p on p.ocid = l.ocid
    where {% if var('risk_r018_awarded_only', true) %}l.is_awarded and {% endif %}p.is_competitive and not p.is_cancelled
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
        coalesce(b.tenderers, 0) > 0 or (l.process_lots = 1 and l.number_of_tenderers >= 1) as computable,
        coalesce(b.tenderers, case when l.process_lots = 1 then l.number_of_tenderers end) = 1 as flagged,
        coalesce(b.tenderers, case when l.process_lots = 1 then l.number_of_tenderers end) as value,
        1 as threshold,
        -coalesce(b.tenderers, case when l.process_lots = 1 then l.number_of_tenderers end) as severity,
        [l.lot_id] as lot_ids,
        b.bid_ids,
        l.award_ids as contract_ids,
        b.tenderer_ids as party_ids,
        json_object('lot_id', l.lot_id, 'tenderers', coalesce(b.tenderers, 0), 'bids', coalesce(b.bids, 0))
            as detail,
        case when coalesce(b.tenderers, 0) = 0 and not (l.process_lots = 1 and l.number_of_tenderers >= 1)
            then 'lot without published bids or number of tenderers' end as note
    from lots as l
    left join bids as b on b.ocid = l.ocid and b.lot_id = l.lot_id
)

{{ risk_items_select('items', 'R018', 'lot') }}
