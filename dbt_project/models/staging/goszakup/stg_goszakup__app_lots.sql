-- The lots an application bids on (AppLots): typed, renamed.
select
    al.id as application_lot_id,
    al.app_id as application_id,
    al.lot_id,
    al.status_id as application_lot_status_id,
    al.reject_reason,
    al.price,
    al.discount_price,
    al.dumping = 1 as is_dumping,
    al._dlt_id
from {{ source('goszakup', 'app_lots') }} as al
