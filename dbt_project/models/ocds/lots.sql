-- The lots of each tender (OCDS Lots extension).
{{ process_incremental_config() }}
select
    cast(l.ocid as varchar) as ocid,
    cast(l.lot_id as varchar) as id,
    cast(a.announcement_number as varchar) as tender_id,
    cast(l.lot_number as varchar) as lot_number,
    cast(l.title_ru as varchar) as title,
    cast(l.description_ru as varchar) as description,
    cast(case
        when l.lot_status_name_ru ilike '%не состоял%' then 'unsuccessful'
        when l.lot_status_name_ru ilike '%отмен%' then 'cancelled'
        when l.lot_status_name_ru ilike '%заверш%' then 'complete'
        when l.lot_status_id is not null then 'active'
    end as varchar) as status,
    cast(l.lot_status_name_ru as varchar) as status_details,
    cast(l.amount as double) as value_amount,
    cast('{{ var("currency") }}' as varchar) as value_currency,
    cast(l.quantity as double) as quantity,
    cast(l.trade_method_id as integer) as trade_method_id,
    cast(l.planned_trade_method_id as integer) as planned_trade_method_id
from {{ ref('int_goszakup__lots') }} as l
inner join {{ ref('int_goszakup__announcements') }} as a on a.announcement_id = l.announcement_id
where {{ changed_processes_only('l.ocid') }}
