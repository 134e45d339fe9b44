{{ config(alias='contract') }}
-- Raw contract rows refused by the OCDS models, one row per (raw row, failed rule).
with rules as (
    {{ rule_deleted('contract') }}
    union all
    {{ rule_duplicate('contract', ref('stg_goszakup__contract'), 'contract_id') }}
    union all
    {{ rule_parent_missing('contract', ref('stg_goszakup__contract'), 'announcement_id', 'contract_id',
        ref('int_goszakup__announcements'), 'announcement_id', 'announcement_missing', 'announcement') }}
    union all
    {{ rule_negative('contract', ref('stg_goszakup__contract'), 'amount_gross', 'contract_id') }}
    union all
    {{ rule_negative('contract', ref('stg_goszakup__contract'), 'amount_net', 'contract_id') }}
    union all
    {{ rule_biin('contract', ref('stg_goszakup__contract'), 'supplier_biin', 'contract_id') }}
    union all
    {{ rule_biin('contract', ref('stg_goszakup__contract'), 'buyer_bin', 'contract_id') }}
),

own_rules as (
    select * from rules
),

-- an amendment follows its contract: when the contract it amends is refused (or absent), so is it
amendments as (
    select * from {{ ref('stg_goszakup__contract') }}
    where is_amendment and _dlt_id not in (select raw_row_id from own_rules)
),

originals as (
    select contract_id from {{ ref('stg_goszakup__contract') }}
    where not is_amendment and _dlt_id not in (select raw_row_id from own_rules)
),

all_rules as (
    select * from own_rules
    union all
    {{ quarantine_rule('contract', 'amendments', 'amended_contract_missing', 'root_id',
        'amended_contract_id not in (select contract_id from originals)',
        "'the contract ' || amended_contract_id || ' this amendment amends is missing or quarantined'",
        record_id='contract_id') }}
)

{{ quarantine_finish('contract', 'all_rules') }}
order by record_id, rule, raw_row_id
