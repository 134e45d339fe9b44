-- Contract items (ContractUnits): typed, renamed. Prices without VAT and with VAT (_wnds) both kept.
select
    u.id as contract_unit_id,
    u.contract_id,
    u.lot_id,
    u.pln_point_id as plan_point_id,
    u.item_price as unit_price_net,
    u.item_price_wnds as unit_price_gross,
    u.quantity,
    u.total_sum as amount_net,
    u.total_sum_wnds as amount_gross,
    u.fact_sum as executed_amount,
    {{ local_ts('u.exec_fakt_date') }} as executed_at,
    {{ local_ts('u.exec_plan_date') }} as planned_execution_at,
    u.executed = 1 as is_executed,
    u.parent_id as parent_unit_id,
    u.root_id as root_unit_id,
    u.ref_contract_status_id as contract_status_id,
    u.ref_amendm_agreem_justif_id as amendment_justification_id,
    u.enstru_code,
    e.name_ru as enstru_name_ru,
    u._dlt_id
from {{ source('goszakup', 'contract_units') }} as u
left join {{ ref('stg_goszakup__ref_enstru') }} as e on e.code = u.enstru_code
