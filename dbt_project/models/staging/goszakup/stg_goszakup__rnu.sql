-- Register of unreliable suppliers: typed, renamed; deleted entries removed.
select
    r.id as rnu_id,
    r.pid as subject_pid,
    r.supplier_name_ru,
    r.supplier_biin,
    r.supplier_innunp as supplier_foreign_number,
    {{ local_ts('r.start_date') }} as start_at,
    {{ local_ts('r.end_date') }} as end_at,
    cast(r.kato_list as varchar[]) as kato_codes,
    r.reason,
    r._dlt_id
from {{ source('goszakup', 'rnu') }} as r
where not {{ deleted_condition('rnu', 'id', 'r') }}
