-- Applications that passed every quarantine rule, with the ocid of their announcement.
{{ process_incremental_config('int_goszakup__changed_processes') }}
with clean as (
    {{ without_quarantined(ref('stg_goszakup__trd_app'), ref('quarantine_trd_app')) }}
)

select a.ocid, p.*
from clean as p
inner join {{ ref('int_goszakup__announcements') }} as a on a.announcement_id = p.announcement_id
where {{ changed_processes_only('a.ocid', 'int_goszakup__changed_processes') }}
