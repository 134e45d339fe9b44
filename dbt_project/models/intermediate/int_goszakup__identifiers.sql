-- Every BIN/IIN the OCDS tables refer to, with its scheme and a display name.
-- Scheme: KZ-IIN when a participant record holds the number as its IIN, KZ-BIN when as its BIN;
-- a number no participant record holds is classed by its 5th digit (a BIN's 5th digit is 4, 5 or 6,
-- the entity type; an IIN's is the first digit of the day of birth, 0-3).
-- Name: the participant record's name (the lowest pid when several hold the number), else the
-- name the procurement record itself carries.
with subjects as (
    {{ without_quarantined(ref('stg_goszakup__subject'), ref('quarantine_subject')) }}
),

held as (
    select bin as identifier, 'KZ-BIN' as scheme, subject_pid, name_ru from subjects where nullif(bin, '') is not null
    union all
    select iin, 'KZ-IIN', subject_pid, name_ru from subjects where nullif(iin, '') is not null
),

by_number as (
    select identifier, arg_min(scheme, subject_pid) as scheme, arg_min(name_ru, subject_pid) as name_ru
    from held
    group by identifier
),

mentioned as (
    select buyer_bin as identifier, buyer_name_ru as name_ru from {{ ref('int_goszakup__announcements') }}
    union all
    select organizer_bin, organizer_name_ru from {{ ref('int_goszakup__announcements') }}
    union all
    select supplier_biin, null from {{ ref('int_goszakup__applications') }}
    union all
    select supplier_biin, null from {{ ref('int_goszakup__contracts') }}
    union all
    select buyer_bin, null from {{ ref('int_goszakup__contracts') }}
),

mentioned_names as (
    select identifier, min(name_ru) as name_ru
    from mentioned
    where identifier is not null
    group by identifier
)

select
    m.identifier,
    coalesce(s.scheme, case when substr(m.identifier, 5, 1) in ('4', '5', '6') then 'KZ-BIN' else 'KZ-IIN' end)
        as scheme,
    {{ party_id("coalesce(s.scheme, case when substr(m.identifier, 5, 1) in ('4', '5', '6') then 'KZ-BIN' else 'KZ-IIN' end)", 'm.identifier') }}
        as party_id,
    coalesce(s.name_ru, m.name_ru) as name_ru,
    s.identifier is not null as has_participant_record
from mentioned_names as m
left join by_number as s on s.identifier = m.identifier
