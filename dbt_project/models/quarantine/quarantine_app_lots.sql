{{ config(alias='app_lots') }}
-- Raw app_lots rows refused by the OCDS models, one row per (raw row, failed rule).
with rules as (
    {{ rule_duplicate('app_lots', ref('stg_goszakup__app_lots'), 'application_lot_id') }}
    union all
    {{ rule_parent_missing('app_lots', ref('stg_goszakup__app_lots'), 'application_id', 'application_lot_id',
        ref('int_goszakup__applications'), 'application_id', 'application_missing', 'application') }}
    union all
    {{ rule_parent_missing('app_lots', ref('stg_goszakup__app_lots'), 'lot_id', 'application_lot_id',
        ref('int_goszakup__lots'), 'lot_id', 'lot_missing', 'lot') }}
    union all
    {{ rule_negative('app_lots', ref('stg_goszakup__app_lots'), 'price', 'application_lot_id') }}
)

{{ quarantine_finish('app_lots', 'rules') }}
order by record_id, rule, raw_row_id
