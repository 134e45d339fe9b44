-- The items of each contract (ContractUnits), with unit prices and totals with and without VAT.
{{ process_incremental_config() }}
select
    cast(u.ocid as varchar) as ocid,
    cast(u.ocds_contract_id as varchar) as contract_id,
    cast(u.contract_unit_id as varchar) as id,
    cast(u.amendment_contract_id as varchar) as amendment_id,
    cast(u.lot_id as varchar) as related_lot,
    cast(u.plan_point_id as bigint) as plan_point_id,
    cast(coalesce(u.enstru_name_ru, u.enstru_code) as varchar) as description,
    cast(case when u.enstru_code is not null then 'KZ-ENSTRU' end as varchar) as classification_scheme,
    cast(u.enstru_code as varchar) as classification_id,
    cast(u.quantity as double) as quantity,
    cast(u.unit_price_gross as double) as unit_value_amount,
    cast(u.unit_price_net as double) as unit_value_amount_net,
    cast(u.amount_gross as double) as total_value_amount,
    cast(u.amount_net as double) as total_value_amount_net,
    cast(u.currency as varchar) as currency
from {{ ref('int_goszakup__contract_units') }} as u
where {{ changed_processes_only('u.ocid') }}
