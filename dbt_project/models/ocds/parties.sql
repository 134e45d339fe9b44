-- The organisations and people of each contracting process, with all their roles in it.
{{ process_incremental_config() }}
select
    cast(ocid as varchar) as ocid,
    cast(party_id as varchar) as id,
    cast(min(name_ru) as varchar) as name,
    cast(min(scheme) as varchar) as identifier_scheme,
    cast(min(identifier) as varchar) as identifier_id,
    cast(min(name_ru) as varchar) as identifier_legal_name,
    cast(list_sort(list(role)) as varchar[]) as roles
from {{ ref('int_goszakup__party_roles') }}
where {{ changed_processes_only('ocid') }}
group by ocid, party_id
