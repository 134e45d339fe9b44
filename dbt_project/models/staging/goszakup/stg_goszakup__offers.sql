-- Per plan point offers inside an application lot (Offers): typed, renamed.
select
    o.id as offer_id,
    o.app_lot_id as application_lot_id,
    o.pln_point_id as plan_point_id,
    o.price as unit_price,
    o.count as quantity,
    o.total_sum as amount,
    o._dlt_id
from {{ source('goszakup', 'offers') }} as o
