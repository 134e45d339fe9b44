{{ config(alias='subject') }}
-- Raw subject rows refused by the OCDS models, one row per (raw row, failed rule).
with rules as (
    {{ rule_deleted('subject', id_column='pid') }}
    union all
    {{ rule_duplicate('subject', ref('stg_goszakup__subject'), 'subject_pid') }}
    union all
    {{ rule_biin('subject', ref('stg_goszakup__subject'), 'bin', 'subject_pid', required=false) }}
    union all
    {{ rule_biin('subject', ref('stg_goszakup__subject'), 'iin', 'subject_pid', required=false) }}
)

{{ quarantine_finish('subject', 'rules') }}
order by record_id, rule, raw_row_id
