-- The items to be procured: one per lot, classified by its first ENSTRU code.
{{ process_incremental_config() }}
select
    cast(l.ocid as varchar) as ocid,
    cast(l.lot_id as varchar) as id,
    cast(l.lot_id as varchar) as related_lot,
    cast(coalesce(l.description_ru, l.title_ru) as varchar) as description,
    cast(case when len(l.enstru_codes) > 0 then 'KZ-ENSTRU' end as varchar) as classification_scheme,
    cast(l.enstru_codes[1] as varchar) as classification_id,
    cast(e.name_ru as varchar) as classification_description,
    cast(l.quantity as double) as quantity,
    cast(l.enstru_codes as varchar[]) as enstru_codes,
    cast(l.plan_point_ids as bigint[]) as plan_point_ids
from {{ ref('int_goszakup__lots') }} as l
left join {{ ref('stg_goszakup__ref_enstru') }} as e on e.code = l.enstru_codes[1]
where {{ changed_processes_only('l.ocid') }}
