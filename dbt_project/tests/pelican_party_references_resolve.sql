-- Pelican: every party reference resolves to exactly one party of the same release that has the
-- referenced role. Returns the references that do not.
with refs as (
    select distinct * from (
        select ocid, buyer_id as party_id, 'buyer' as role, 'releases.buyer_id' as reference from {{ ref('releases') }}
        union all
        select ocid, procuring_entity_id, 'procuringEntity', 'tenders.procuring_entity_id' from {{ ref('tenders') }}
        where procuring_entity_id is not null
        union all
        select ocid, tenderer_id, 'tenderer', 'bids.tenderer_id' from {{ ref('bids') }}
        union all
        select ocid, id, 'supplier', 'award_suppliers.id' from {{ ref('award_suppliers') }}
        union all
        select ocid, payer_id, 'payer', 'transactions.payer_id' from {{ ref('transactions') }}
        union all
        select ocid, payee_id, 'payee', 'transactions.payee_id' from {{ ref('transactions') }}
    )
)

select r.ocid, r.party_id, r.role, r.reference, count(p.id) as matching_parties
from refs as r
left join {{ ref('parties') }} as p
    on p.ocid = r.ocid and p.id = r.party_id and list_contains(p.roles, r.role)
group by all
having count(p.id) <> 1
