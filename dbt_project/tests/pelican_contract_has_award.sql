-- Pelican: every contract refers to an award of the same contracting process.
select c.ocid, c.id as contract_id, c.award_id
from {{ ref('contracts') }} as c
left join {{ ref('awards') }} as a on a.ocid = c.ocid and a.id = c.award_id
where a.id is null
