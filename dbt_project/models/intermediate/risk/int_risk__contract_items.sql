-- The items of original contracts of active awards (amendments' items left out), with the
-- contract's buyer, supplier and year and the process's region.
select
    i.ocid,
    i.id as item_id,
    i.contract_id,
    i.related_lot as lot_id,
    c.buyer_id,
    c.supplier_id,
    c.contract_year,
    p.region_code,
    p.region_name,
    nullif(trim(i.classification_id), '') as classification_id,
    i.quantity,
    i.unit_value_amount_net as unit_price_net,
    i.total_value_amount_net as value_net
from {{ risk_input('contract_items') }} as i
inner join {{ ref('int_risk__contracts') }} as c on c.ocid = i.ocid and c.contract_id = i.contract_id
inner join {{ ref('int_risk__processes') }} as p on p.ocid = i.ocid
where i.amendment_id is null
