{{ config(alias='rnu') }}
-- Raw rnu rows refused by the OCDS models, one row per (raw row, failed rule).
with rules as (
    {{ rule_deleted('rnu') }}
    union all
    {{ rule_duplicate('rnu', ref('stg_goszakup__rnu'), 'rnu_id') }}
    union all
    {{ rule_biin('rnu', ref('stg_goszakup__rnu'), 'supplier_biin', 'rnu_id', required=false) }}
)

{{ quarantine_finish('rnu', 'rules') }}
order by record_id, rule, raw_row_id
