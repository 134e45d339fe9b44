-- Contract amendments (supplementary agreements): contract rows whose parent_id points at an
-- earlier version; contract_id is the original contract.
{{ process_incremental_config() }}
select
    cast(c.ocid as varchar) as ocid,
    cast(c.ocds_contract_id as varchar) as contract_id,
    cast(c.contract_id as varchar) as id,
    cast(coalesce(c.signed_at, c.created_at) as timestamptz) as date,
    cast(c.description_ru as varchar) as description,
    cast(c.parent_contract_id as varchar) as amends_contract_version_id,
    cast(c.amount_gross as double) as value_amount,
    cast(c.amount_net as double) as value_amount_net,
    cast(c.currency as varchar) as value_currency
from {{ ref('int_goszakup__contracts') }} as c
where c.is_amendment
and {{ changed_processes_only('c.ocid') }}
