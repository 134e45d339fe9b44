-- One row per (ocid, party, role): who is buyer, procuringEntity, tenderer, supplier, payer, payee
-- in each contracting process.
{{ process_incremental_config() }}
with roles as (
    select ocid, buyer_bin as identifier, 'buyer' as role from {{ ref('int_goszakup__announcements') }}
    union
    select ocid, organizer_bin, 'procuringEntity' from {{ ref('int_goszakup__announcements') }}
    where organizer_bin is not null
    union
    select ocid, supplier_biin, 'tenderer' from {{ ref('int_goszakup__applications') }}
    union
    select ocid, supplier_biin, 'supplier' from {{ ref('int_goszakup__contracts') }} where not is_amendment
    union
    select ocid, buyer_bin, 'payer' from {{ ref('int_goszakup__treasury_payments') }}
    union
    select ocid, supplier_biin, 'payee' from {{ ref('int_goszakup__treasury_payments') }}
)

select r.ocid, i.party_id, r.role, i.identifier, i.scheme, i.name_ru
from roles as r
inner join {{ ref('int_goszakup__identifiers') }} as i on i.identifier = r.identifier
where {{ changed_processes_only('r.ocid') }}
