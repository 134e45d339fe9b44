{{ config(alias='treasury_pay') }}
-- Raw treasury_pay rows refused by the OCDS models, one row per (raw row, failed rule).
with rules as (
    {{ rule_duplicate('treasury_pay', ref('stg_goszakup__treasury_pay'), 'payment_id') }}
    union all
    {{ rule_parent_missing('treasury_pay', ref('stg_goszakup__treasury_pay'), 'contract_id', 'payment_id',
        ref('int_goszakup__contracts'), 'contract_id', 'contract_missing', 'contract') }}
)

{{ quarantine_finish('treasury_pay', 'rules') }}
order by record_id, rule, raw_row_id
