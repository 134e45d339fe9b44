-- Published risk input: the entries of the register of unreliable suppliers (RNU, clean) by the
-- supplier's BIN/IIN (from the entry, else from the participant register by pid), for
-- DEBARRED_WINNER. The RNU is a public register.
with rnu as (
    {{ without_quarantined(ref('stg_goszakup__rnu'), ref('quarantine_rnu')) }}
),

subjects as (
    {{ without_quarantined(ref('stg_goszakup__subject'), ref('quarantine_subject')) }}
)

select
    cast(r.rnu_id as varchar) as rnu_id,
    cast(coalesce(nullif(trim(r.supplier_biin), ''), s.identifier) as varchar) as identifier,
    cast(r.start_at as timestamptz) as start_at,
    cast(r.end_at as timestamptz) as end_at,
    cast(r.reason as varchar) as reason
from rnu as r
left join subjects as s on s.subject_pid = r.subject_pid
where coalesce(nullif(trim(r.supplier_biin), ''), s.identifier) is not null
