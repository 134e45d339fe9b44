{{ config(alias='acts') }}
-- Raw acts rows refused by the OCDS models, one row per (raw row, failed rule).
with rules as (
    {{ rule_deleted('acts') }}
    union all
    {{ rule_duplicate('acts', ref('stg_goszakup__acts'), 'act_id') }}
    union all
    {{ rule_parent_missing('acts', ref('stg_goszakup__acts'), 'contract_id', 'act_id',
        ref('int_goszakup__contracts'), 'contract_id', 'contract_missing', 'contract') }}
)

{{ quarantine_finish('acts', 'rules') }}
order by record_id, rule, raw_row_id
