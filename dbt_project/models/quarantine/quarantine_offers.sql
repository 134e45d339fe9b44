{{ config(alias='offers') }}
-- Raw offers rows refused by the OCDS models, one row per (raw row, failed rule).
with rules as (
    {{ rule_duplicate('offers', ref('stg_goszakup__offers'), 'offer_id') }}
    union all
    {{ rule_parent_missing('offers', ref('stg_goszakup__offers'), 'application_lot_id', 'offer_id',
        '(' ~ without_quarantined(ref('stg_goszakup__app_lots'), ref('quarantine_app_lots')) ~ ')', 'application_lot_id', 'application_lot_missing', 'application lot') }}
)

{{ quarantine_finish('offers', 'rules') }}
order by record_id, rule, raw_row_id
