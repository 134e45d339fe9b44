-- Composite risk score per contracting process (not cancelled), CRI-style: the mean of the
-- computable components, each scaled to 0..1 (a flag: flagged 1, not flagged 0). Components = the
-- process-grain flags with in_composite in seed risk_flags; not computable ones are left out, so
-- the score is NULL only when no component is computable.
with flags as (
    select f.ocid, f.flag_code, f.status
    from {{ ref('process_flags') }} as f
    inner join {{ ref('risk_flags') }} as c on c.flag_code = f.flag_code
    where c.in_composite
),

per_process as (
    select
        ocid,
        count(*) filter (where status <> 'not_computable') as components,
        count(*) filter (where status = 'flagged') as flagged_components,
        list_sort(list(flag_code) filter (where status = 'flagged')) as flagged_codes,
        list_sort(list(flag_code) filter (where status = 'not_computable')) as not_computable_codes
    from flags
    group by ocid
)

select
    cast(p.ocid as varchar) as ocid,
    cast(p.buyer_id as varchar) as buyer_id,
    cast(p.publication_year as integer) as year,
    cast(p.region_name as varchar) as region,
    cast(p.procurement_method as varchar) as procurement_method,
    cast(coalesce(s.components, 0) as integer) as components,
    cast(coalesce(s.flagged_components, 0) as integer) as flagged_components,
    cast(case when s.components > 0 then s.flagged_components / s.components end as double) as score,
    cast(coalesce(s.flagged_codes, {{ risk_no_ids() }}) as varchar[]) as flagged_codes,
    cast(coalesce(s.not_computable_codes, {{ risk_no_ids() }}) as varchar[]) as not_computable_codes
from {{ ref('int_risk__processes') }} as p
left join per_process as s on s.ocid = p.ocid
where not p.is_cancelled
