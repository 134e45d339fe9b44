-- The supplier of each award (a party reference).
{{ process_incremental_config() }}
select
    cast(c.ocid as varchar) as ocid,
    cast(c.contract_id as varchar) as award_id,
    cast(i.party_id as varchar) as id,
    cast(i.name_ru as varchar) as name
from {{ ref('int_goszakup__contracts') }} as c
inner join {{ ref('int_goszakup__identifiers') }} as i on i.identifier = c.supplier_biin
where not c.is_amendment
and {{ changed_processes_only('c.ocid') }}
