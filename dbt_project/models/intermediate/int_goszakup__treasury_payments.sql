-- Treasury payments that passed every quarantine rule, attached to the OCDS contract.
{{ process_incremental_config('int_goszakup__changed_processes') }}
with clean as (
    {{ without_quarantined(ref('stg_goszakup__treasury_pay'), ref('quarantine_treasury_pay')) }}
)

select
    c.ocid,
    c.ocds_contract_id,
    c.currency,
    c.buyer_bin,
    c.supplier_biin,
    p.*
from clean as p
inner join {{ ref('int_goszakup__contracts') }} as c on c.contract_id = p.contract_id
where {{ changed_processes_only('c.ocid', 'int_goszakup__changed_processes') }}
