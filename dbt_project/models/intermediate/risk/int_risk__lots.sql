-- One row per lot: expected (planned) value, planned and actual method, the active awards made on
-- it and their suppliers, the value awarded on it (original contracts' items on the lot, net of
-- VAT, summed exactly) and its bids.
with lot_awards as (
    select aw.ocid, aw.id as award_id, aw.status, unnest(aw.related_lots) as lot_id
    from {{ risk_input('awards') }} as aw
),

awarded as (
    select ocid, award_id, lot_id from lot_awards where status = 'active'
),

-- a lot is decided when it has an active award and no award still open (pending or another status
-- than active, cancelled, unsuccessful): as Cardinal's "all awards final"
undecided as (
    select distinct ocid, lot_id
    from lot_awards
    where status is null or status not in ('active', 'cancelled', 'unsuccessful')
),

award_parties as (
    select
        a.ocid,
        a.lot_id,
        {{ risk_id_list('a.award_id') }} as award_ids,
        {{ risk_id_list('s.id') }} as supplier_ids
    from awarded as a
    left join {{ risk_input('award_suppliers') }} as s on s.ocid = a.ocid and s.award_id = a.award_id
    group by a.ocid, a.lot_id
),

awarded_value as (
    select
        i.ocid,
        i.related_lot as lot_id,
        {{ risk_money_sum('i.total_value_amount_net') }} as awarded_value_net,
        count(*) filter (where i.total_value_amount_net is null) as items_without_value
    from {{ risk_input('contract_items') }} as i
    inner join {{ risk_input('awards') }} as aw on aw.ocid = i.ocid and aw.id = i.contract_id and aw.status = 'active'
    where i.amendment_id is null and i.related_lot is not null
    group by i.ocid, i.related_lot
),

bids as (
    select ocid, related_lot as lot_id, count(*) as bids, count(distinct tenderer_id) as tenderers
    from {{ risk_input('bids') }}
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
    a.award_ids is not null and u.lot_id is null as is_decided,
    coalesce(a.award_ids, {{ risk_no_ids() }}) as award_ids,
    coalesce(a.supplier_ids, {{ risk_no_ids() }}) as supplier_ids,
    v.awarded_value_net,
    coalesce(v.items_without_value, 0) as items_without_value,
    coalesce(b.bids, 0) as bids,
    coalesce(b.tenderers, 0) as tenderers
from {{ risk_input('lots') }} as l
inner join {{ ref('int_risk__processes') }} as p on p.ocid = l.ocid
left join award_parties as a on a.ocid = l.ocid and a.lot_id = l.id
left join awarded_value as v on v.ocid = l.ocid and v.lot_id = l.id
left join bids as b on b.ocid = l.ocid and b.lot_id = l.id
left join undecided as u on u.ocid = l.ocid and u.lot_id = l.id
