-- Plan points: typed, renamed, codes decoded; deleted ones (is_deleted = 1 or journal 'D') removed.
select
    p.id as plan_point_id,
    p.subject_biin as buyer_biin,
    p.name_ru as title_ru,
    p.ref_trade_methods_id as trade_method_id,
    tm.name_ru as trade_method_name_ru,
    p.ref_units_code as unit_code,
    u.name_ru as unit_name_ru,
    p.count as quantity,
    p.price as unit_price,
    p.amount,
    p.ref_months_id as month_id,
    p.ref_pln_point_status_id as plan_point_status_id,
    ps.name_ru as plan_point_status_name_ru,
    p.pln_point_year as plan_year,
    p.ref_subject_type_id as subject_type_id,
    p.ref_enstru_code as enstru_code,
    p.ref_finsource_id as finance_source_id,
    p.is_qvazi = 1 as is_quasi_public,
    {{ local_ts('p.date_create') }} as created_at,
    {{ local_ts('p.timestamp') }} as last_updated_at,
    p.is_active = 1 as is_active,
    p._dlt_id
from {{ source('goszakup', 'plans') }} as p
left join {{ ref('stg_goszakup__ref_trade_methods') }} as tm on tm.ref_id = p.ref_trade_methods_id
left join {{ ref('stg_goszakup__ref_units') }} as u on u.code = p.ref_units_code
left join {{ ref('stg_goszakup__ref_pln_point_status') }} as ps on ps.ref_id = p.ref_pln_point_status_id
where not {{ deleted_condition('plans', 'id', 'p') }}
