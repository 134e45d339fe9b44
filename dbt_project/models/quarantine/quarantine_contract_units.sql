{{ config(alias='contract_units') }}
-- Raw contract_units rows refused by the OCDS models, one row per (raw row, failed rule).
with rules as (
    {{ rule_duplicate('contract_units', ref('stg_goszakup__contract_units'), 'contract_unit_id') }}
    union all
    {{ rule_parent_missing('contract_units', ref('stg_goszakup__contract_units'), 'contract_id', 'contract_unit_id',
        ref('int_goszakup__contracts'), 'contract_id', 'contract_missing', 'contract') }}
    union all
    {{ quarantine_rule('contract_units', ref('stg_goszakup__contract_units'), 'lot_missing', 'lot_id',
        "lot_id is not null and lot_id not in (select lot_id from " ~ ref('int_goszakup__lots') ~ ")",
        "'lot ' || lot_id || ' is missing or quarantined'", record_id='contract_unit_id') }}
    union all
    {{ rule_negative('contract_units', ref('stg_goszakup__contract_units'), 'amount_gross', 'contract_unit_id') }}
)

{{ quarantine_finish('contract_units', 'rules') }}
order by record_id, rule, raw_row_id
