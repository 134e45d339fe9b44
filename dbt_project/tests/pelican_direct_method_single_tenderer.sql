-- Pelican: a direct procurement has at most one tenderer.
select t.ocid, t.procurement_method_details, count(distinct b.tenderer_id) as tenderers
from {{ ref('tenders') }} as t
inner join {{ ref('bids') }} as b on b.ocid = t.ocid
where t.procurement_method = 'direct'
group by all
having count(distinct b.tenderer_id) > 1
