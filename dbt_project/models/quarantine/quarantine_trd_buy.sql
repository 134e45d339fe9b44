{{ config(alias='trd_buy') }}
-- Raw trd_buy rows refused by the OCDS models, one row per (raw row, failed rule).
with rules as (
    {{ rule_deleted('trd_buy') }}
    union all
    {{ rule_duplicate('trd_buy', ref('stg_goszakup__trd_buy'), 'announcement_id') }}
    union all
    {{ rule_duplicate('trd_buy', ref('stg_goszakup__trd_buy'), 'announcement_number', 'announcement_id', 'duplicate_number') }}
    union all
    {{ quarantine_rule('trd_buy', ref('stg_goszakup__trd_buy'), 'missing_number', 'number_anno',
        "nullif(trim(announcement_number), '') is null", "'the announcement has no number_anno, so no ocid'",
        record_id='announcement_id') }}
    union all
    {{ rule_biin('trd_buy', ref('stg_goszakup__trd_buy'), 'buyer_bin', 'announcement_id') }}
    union all
    {{ rule_biin('trd_buy', ref('stg_goszakup__trd_buy'), 'organizer_bin', 'announcement_id', required=false) }}
    union all
    {{ rule_negative('trd_buy', ref('stg_goszakup__trd_buy'), 'total_amount', 'announcement_id') }}
)

{{ quarantine_finish('trd_buy', 'rules') }}
order by record_id, rule, raw_row_id
