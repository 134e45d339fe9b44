-- Published risk input: one row per BIN/IIN the OCDS tables name or the participant register holds,
-- with its party id, name, and the register facts the flags read (registration date for
-- NEW_COMPANY, VAT-payer status for VAT_NON_PAYER). No contact details. When several participant
-- records hold a number, the lowest pid's values are used.
with subjects as (
    {{ without_quarantined(ref('stg_goszakup__subject'), ref('quarantine_subject')) }}
),

participants as (
    select
        identifier,
        arg_min(registered_at, subject_pid) as registered_at,
        arg_min(is_vat_payer, subject_pid) as is_vat_payer
    from subjects
    where identifier is not null
    group by identifier
),

numbers as (
    select identifier from {{ ref('int_goszakup__identifiers') }}
    union
    select identifier from participants
),

ids as (
    select identifier, min(party_id) as party_id, min(scheme) as scheme, min(name_ru) as name
    from {{ ref('int_goszakup__identifiers') }}
    group by identifier
)

select
    cast(n.identifier as varchar) as identifier,
    cast(i.party_id as varchar) as party_id,
    cast(i.scheme as varchar) as identifier_scheme,
    cast(i.name as varchar) as name,
    cast(p.identifier is not null as boolean) as has_participant_record,
    cast(p.registered_at as timestamptz) as registered_at,
    cast(p.is_vat_payer as boolean) as is_vat_payer
from numbers as n
left join ids as i on i.identifier = n.identifier
left join participants as p on p.identifier = n.identifier
