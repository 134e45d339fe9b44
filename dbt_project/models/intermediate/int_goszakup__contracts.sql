-- Contracts and amendments that passed every quarantine rule, with the ocid of their announcement.
-- ocds_contract_id: the contract an OCDS consumer sees (an amendment's original contract).
{{ process_incremental_config('int_goszakup__changed_processes') }}
with clean as (
    {{ without_quarantined(ref('stg_goszakup__contract'), ref('quarantine_contract')) }}
)

select
    a.ocid,
    coalesce(c.amended_contract_id, c.contract_id) as ocds_contract_id,
    c.*
from clean as c
inner join {{ ref('int_goszakup__announcements') }} as a on a.announcement_id = c.announcement_id
where {{ changed_processes_only('a.ocid', 'int_goszakup__changed_processes') }}
