-- R048 measurement: per supplier, the processes won (contracts awarded to it alone) and the variety
-- = distinct first-level classification prefixes (var risk_r048_digits characters) of the items.
select
    supplier_id,
    count(distinct ocid) as processes,
    count(distinct left(classification_id, {{ var('risk_r048_digits') }})) as variety,
    list_sort(list(distinct left(classification_id, {{ var('risk_r048_digits') }})) filter (where classification_id is not null))
        as prefixes,
    {{ risk_id_list('ocid') }} as ocids,
    {{ risk_id_list('contract_id') }} as contract_ids
from {{ ref('int_risk__contract_items') }}
where supplier_id is not null
group by supplier_id
