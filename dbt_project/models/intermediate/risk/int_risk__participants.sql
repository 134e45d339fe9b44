-- One row per BIN/IIN of the participant register (clean subjects): registration date and
-- VAT-payer status (NULL when unknown: the flags that need it are then not computable). When
-- several records hold a number, the lowest pid's values are used.
with subjects as (
    {{ without_quarantined(ref('stg_goszakup__subject'), ref('quarantine_subject')) }}
)

select
    s.identifier,
    min(i.party_id) as party_id,
    arg_min(s.registered_at, s.subject_pid) as registered_at,
    arg_min(s.is_vat_payer, s.subject_pid) as is_vat_payer,
    min(s.subject_pid) as subject_pid
from subjects as s
left join {{ ref('int_goszakup__identifiers') }} as i on i.identifier = s.identifier
where s.identifier is not null
group by s.identifier
