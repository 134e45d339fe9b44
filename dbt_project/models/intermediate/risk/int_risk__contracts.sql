-- One row per original contract of an active award (amendments are folded in): buyer, supplier,
-- dates, values with and without VAT, the process's method, its lots, and its amendments in
-- order (date, then id).
with amendments as (
    select
        contract_id,
        count(*) as amendment_count,
        list(
            struct_pack(id := id, date := date, value_net := value_amount_net, value_gross := value_amount)
            order by date nulls last, try_cast(id as bigint) nulls last, id
        ) as amendments
    from {{ risk_input('amendments') }}
    group by contract_id
),

suppliers as (
    select ocid, award_id, {{ risk_id_list('id') }} as supplier_ids
    from {{ risk_input('award_suppliers') }}
    group by ocid, award_id
)

select
    c.ocid,
    c.id as contract_id,
    p.buyer_id,
    case when len(s.supplier_ids) = 1 then s.supplier_ids[1] end as supplier_id,
    coalesce(s.supplier_ids, {{ risk_no_ids() }}) as supplier_ids,
    c.supplier_identifier,
    c.date_signed as signed_at,
    aw.date as award_date,
    coalesce(c.date_signed, aw.date) as contract_date,
    year({{ risk_local('coalesce(c.date_signed, aw.date)') }}) as contract_year,
    c.value_amount_net as value_net,
    c.value_amount as value_gross,
    aw.related_lots as lot_ids,
    p.trade_method_id,
    p.procurement_method,
    p.is_direct,
    coalesce(a.amendment_count, 0) as amendment_count,
    a.amendments
from {{ risk_input('contracts') }} as c
inner join {{ risk_input('awards') }} as aw on aw.ocid = c.ocid and aw.id = c.award_id
inner join {{ ref('int_risk__processes') }} as p on p.ocid = c.ocid
left join suppliers as s on s.ocid = c.ocid and s.award_id = c.award_id
left join amendments as a on a.contract_id = c.id
where aw.status = 'active' and not p.is_cancelled
