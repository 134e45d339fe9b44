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
    union all
    {# a method the seed trade_method_ocds does not map would get a NULL procurementMethod and drop out
        of every method-based flag and share: quarantined, and the relationships test of
        stg_goszakup__trd_buy.trade_method_id fails the build until the seed maps it #}
    {{ quarantine_rule('trd_buy', ref('stg_goszakup__trd_buy'), 'unknown_trade_method', 'ref_trade_methods_id',
        "trade_method_id is null or trade_method_id not in (select trade_method_id from " ~ ref('trade_method_ocds') ~ ")",
        "'ref_trade_methods_id ' || coalesce(cast(trade_method_id as varchar), 'NULL') || ' is not in seed trade_method_ocds: no OCDS procurementMethod'",
        record_id='announcement_id') }}
)

{{ quarantine_finish('trd_buy', 'rules') }}
order by record_id, rule, raw_row_id
