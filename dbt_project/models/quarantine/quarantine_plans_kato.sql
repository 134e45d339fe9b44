{{ config(alias='plans_kato') }}
-- Raw plans_kato rows refused by the OCDS models, one row per (raw row, failed rule).
with rules as (
    {{ rule_duplicate('plans_kato', ref('stg_goszakup__plans_kato'), 'plan_kato_id') }}
    union all
    {{ rule_parent_missing('plans_kato', ref('stg_goszakup__plans_kato'), 'plan_point_id', 'plan_kato_id',
        ref('int_goszakup__plan_points'), 'plan_point_id', 'plan_point_missing', 'plan point') }}
)

{{ quarantine_finish('plans_kato', 'rules') }}
order by record_id, rule, raw_row_id
