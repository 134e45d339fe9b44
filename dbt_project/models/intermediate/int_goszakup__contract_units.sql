-- Contract items that passed every quarantine rule, attached to the OCDS contract.
{{ process_incremental_config('int_goszakup__changed_processes') }}
with clean as (
    {{ without_quarantined(ref('stg_goszakup__contract_units'), ref('quarantine_contract_units')) }}
)

select
    c.ocid,
    c.ocds_contract_id,
    case when c.is_amendment then c.contract_id end as amendment_contract_id,
    c.currency,
    u.*
from clean as u
inner join {{ ref('int_goszakup__contracts') }} as c on c.contract_id = u.contract_id
where {{ changed_processes_only('c.ocid', 'int_goszakup__changed_processes') }}
