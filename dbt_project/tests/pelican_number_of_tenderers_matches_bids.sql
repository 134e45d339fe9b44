-- Pelican: tender.numberOfTenderers equals the number of distinct tenderers in the bids.
with bidders as (
    select ocid, count(distinct tenderer_id) as tenderers from {{ ref('bids') }} group by ocid
)

select t.ocid, t.number_of_tenderers, coalesce(b.tenderers, 0) as tenderers_in_bids
from {{ ref('tenders') }} as t
left join bidders as b on b.ocid = t.ocid
where t.number_of_tenderers <> coalesce(b.tenderers, 0)
