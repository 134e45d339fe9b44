{{ config(alias='trd_app') }}
-- Raw trd_app rows refused by the OCDS models, one row per (raw row, failed rule).
with rules as (
    {{ rule_deleted('trd_app') }}
    union all
    {{ rule_duplicate('trd_app', ref('stg_goszakup__trd_app'), 'application_id') }}
    union all
    {{ rule_parent_missing('trd_app', ref('stg_goszakup__trd_app'), 'announcement_id', 'application_id',
        ref('int_goszakup__announcements'), 'announcement_id', 'announcement_missing', 'announcement') }}
    union all
    {{ rule_biin('trd_app', ref('stg_goszakup__trd_app'), 'supplier_biin', 'application_id') }}
)

{{ quarantine_finish('trd_app', 'rules') }}
order by record_id, rule, raw_row_id
