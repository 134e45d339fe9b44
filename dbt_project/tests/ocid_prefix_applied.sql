-- Every ocid starts with the configured prefix (var ocid_prefix) and ends with the announcement number.
select r.ocid, t.id as announcement_number
from {{ ref('releases') }} as r
inner join {{ ref('tenders') }} as t on t.ocid = r.ocid
where r.ocid <> '{{ var("ocid_prefix") }}' || '-' || t.id
