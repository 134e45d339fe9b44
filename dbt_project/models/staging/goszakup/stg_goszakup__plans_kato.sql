-- Delivery places of plan points (PlansKato): typed, renamed.
select
    k.id as plan_kato_id,
    k.pln_point_id as plan_point_id,
    k.ref_kato_code as kato_code,
    k.ref_countries_code as country_code,
    k.full_delivery_place_name_ru as delivery_place_ru,
    k.count as quantity,
    k._dlt_id
from {{ source('goszakup', 'plans_kato') }} as k
