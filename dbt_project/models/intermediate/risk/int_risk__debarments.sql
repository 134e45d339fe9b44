-- Entries of the register of unreliable suppliers (RNU, clean), by the supplier's BIN/IIN (from the
-- entry, else from the participant register by pid).
with rnu as (
    {{ without_quarantined(ref('stg_goszakup__rnu'), ref('quarantine_rnu')) }}
),

subjects as (
    {{ without_quarantined(ref('stg_goszakup__subject'), ref('quarantine_subject')) }}
)

select
    r.rnu_id,
    coalesce(nullif(trim(r.supplier_biin), ''), s.identifier) as identifier,
    r.start_at,
    r.end_at,
    r.reason
from rnu as r
left join subjects as s on s.subject_pid = r.subject_pid
where coalesce(nullif(trim(r.supplier_biin), ''), s.identifier) is not null
