{{ config(alias='lots') }}
-- Raw lots rows refused by the OCDS models, one row per (raw row, failed rule).
with rules as (
    {{ rule_deleted('lots') }}
    union all
    {{ rule_duplicate('lots', ref('stg_goszakup__lots'), 'lot_id') }}
    union all
    {{ rule_parent_missing('lots', ref('stg_goszakup__lots'), 'announcement_id', 'lot_id',
        ref('int_goszakup__announcements'), 'announcement_id', 'announcement_missing', 'announcement') }}
    union all
    {{ rule_negative('lots', ref('stg_goszakup__lots'), 'amount', 'lot_id') }}
)

{{ quarantine_finish('lots', 'rules') }}
order by record_id, rule, raw_row_id
