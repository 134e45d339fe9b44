-- Pelican: dates are coherent: the tender period ends no later than the award, and the award is
-- no later than the contract signature (compared as instants; missing dates are not judged).
select
    t.ocid,
    c.id as contract_id,
    t.tender_period_end_date,
    a.date as award_date,
    c.date_signed,
    case
        when t.tender_period_end_date > a.date then 'tender period ends after the award'
        else 'award is after the contract signature'
    end as problem
from {{ ref('contracts') }} as c
inner join {{ ref('awards') }} as a on a.ocid = c.ocid and a.id = c.award_id
inner join {{ ref('tenders') }} as t on t.ocid = c.ocid
where t.tender_period_end_date > a.date
   or a.date > c.date_signed
