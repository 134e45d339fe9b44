-- Every risk flag: code, name, source, grains, composite membership, what the value means, the
-- sandbox pattern it detects, and the parameters (dbt vars risk_*) this build used.
{%- set params = risk_flag_parameters() %}
with parameters as (
    select * from (values
    {%- for code, values in params.items() %}
        ('{{ code }}', '{{ tojson(values, sort_keys=true) | replace("'", "''") }}'){% if not loop.last %},{% endif %}
    {%- endfor %}
    ) as t (flag_code, parameters)
)

select
    cast(f.flag_code as varchar) as flag_code,
    cast(f.flag_name as varchar) as flag_name,
    cast(f.source as varchar) as source,
    cast(f.process_grain as boolean) as process_grain,
    cast(case when coalesce(f.organisation_roles, '') = '' then [] else string_split(f.organisation_roles, '|') end
        as varchar[]) as organisation_roles,
    cast(case when coalesce(f.rolled_up_roles, '') = '' then [] else string_split(f.rolled_up_roles, '|') end
        as varchar[]) as rolled_up_roles,
    cast(f.in_composite as boolean) as in_composite,
    cast(f.object_type as varchar) as object_type,
    cast(f.value_meaning as varchar) as value_meaning,
    cast(f.sandbox_pattern as varchar) as sandbox_pattern,
    cast(p.parameters as json) as parameters
from {{ ref('risk_flags') }} as f
left join parameters as p on p.flag_code = f.flag_code
