-- One row per lot: expected (planned) value, planned and actual method, the active awards made on
-- it and their suppliers, the value awarded on it (original contracts' items on the lot, net of
-- VAT, summed exactly) and its bids.
with awarded as (
    select aw.ocid, aw.id as award_id, unnest(aw.related_lots) as lot_id
    from {{ ref('awards') }} as aw
    where aw.status = 'active'
),

award_parties as (
    select
        a.ocid,
        a.lot_id,
        {{ risk_id_list('a.award_id') }} as award_ids,
        {{ risk_id_list('s.id') }} as supplier_ids
    from awarded as a
    left join {{ ref('award_suppliers') }} as s on s.ocid = a.ocid and s.award_id = a.award_id
    group by a.ocid, a.lot_id
),

awarded_value as (
    select
        i.ocid,
        i.related_lot as lot_id,
        {{ risk_money_sum('i.total_value_amount_net') }} as awarded_value_net,
        count(*) filter (where i.total_value_amount_net is null) as items_without_value
    from {{ ref('contract_items') }} as i
    inner join {{ ref('awards') }} as aw on aw.ocid = i.ocid and aw.id = i.contract_id and aw.status = 'active'
    where i.amendment_id is null and i.related_lot is not null
    group by i.ocid, i.related_lot
),

bids as (
    select ocid, related_lot as lot_id, count(*) as bids, count(distinct tenderer_id) as tenderers
    from {{ ref('bids') }}
    group by ocid, related_lot
)

select
    l.ocid,
    l.id as lot_id,
    l.value_amount as planned_amount,
    l.planned_trade_method_id,
    coalesce(l.trade_method_id, p.trade_method_id) as trade_method_id,
    l.status as lot_status,
    a.award_ids is not null as is_awarded,
    coalesce(a.award_ids, {{ risk_no_ids() }}) as award_ids,
    coalesce(a.supplier_ids, {{ risk_no_ids() }}) as supplier_ids,
    v.awarded_value_net,
    coalesce(v.items_without_value, 0) as items_without_value,
    coalesce(b.bids, 0) as bids,
    coalesce(b.tenderers, 0) as tenderers
from {{ ref('lots') }} as l
inner join {{ ref('int_risk__processes') }} as p on p.ocid = l.ocid
left join award_parties as a on a.ocid = l.ocid and a.lot_id = l.id
left join awarded_value as v on v.ocid = l.ocid and v.lot_id = l.id
left join bids as b on b.ocid = l.ocid and b.lot_id = l.id
