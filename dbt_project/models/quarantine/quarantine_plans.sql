{{ config(alias='plans') }}
-- Raw plans rows refused by the OCDS models, one row per (raw row, failed rule).
with rules as (
    {{ rule_deleted('plans') }}
    union all
    {{ rule_duplicate('plans', ref('stg_goszakup__plans'), 'plan_point_id') }}
    union all
    {{ rule_negative('plans', ref('stg_goszakup__plans'), 'amount', 'plan_point_id') }}
    union all
    {{ rule_biin('plans', ref('stg_goszakup__plans'), 'buyer_biin', 'plan_point_id', required=false) }}
)

{{ quarantine_finish('plans', 'rules') }}
order by record_id, rule, raw_row_id
