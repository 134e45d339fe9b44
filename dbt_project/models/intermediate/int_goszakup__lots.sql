-- Lots that passed every quarantine rule, with the ocid of their announcement.
{{ process_incremental_config('int_goszakup__changed_processes') }}
with clean as (
    {{ without_quarantined(ref('stg_goszakup__lots'), ref('quarantine_lots')) }}
)

select a.ocid, l.*
from clean as l
inner join {{ ref('int_goszakup__announcements') }} as a on a.announcement_id = l.announcement_id
where {{ changed_processes_only('a.ocid', 'int_goszakup__changed_processes') }}
