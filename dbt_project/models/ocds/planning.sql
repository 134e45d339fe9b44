-- Plan points behind each contracting process (lots list their plan points in point_list).
{{ process_incremental_config() }}
with links as (
    select distinct ocid, unnest(plan_point_ids) as plan_point_id, lot_id
    from {{ ref('int_goszakup__lots') }}
    where {{ changed_processes_only('ocid') }}
)

select
    cast(k.ocid as varchar) as ocid,
    cast(p.plan_point_id as varchar) as id,
    cast(list_sort(list(distinct cast(k.lot_id as varchar))) as varchar[]) as related_lots,
    cast(min(p.title_ru) as varchar) as title,
    cast(min(p.amount) as double) as budget_amount,
    cast('{{ var("currency") }}' as varchar) as budget_currency,
    cast(min(p.plan_year) as integer) as plan_year,
    cast(min(p.trade_method_name_ru) as varchar) as planned_procurement_method_details,
    cast(min(p.quantity) as double) as quantity,
    cast(min(p.unit_name_ru) as varchar) as unit_name,
    cast(min(p.unit_price) as double) as unit_price,
    cast(min(p.enstru_code) as varchar) as enstru_code,
    cast(min(p.created_at) as timestamptz) as created_at
from links as k
inner join {{ ref('int_goszakup__plan_points') }} as p on p.plan_point_id = k.plan_point_id
group by k.ocid, p.plan_point_id
