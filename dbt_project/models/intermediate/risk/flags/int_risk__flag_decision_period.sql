-- DECISION_PERIOD (GTI CRI "decision period"): days from the bid deadline to the award (results
-- published) outside the band [var risk_decision_min_days, var risk_decision_max_days]. Item = a
-- competitive, not cancelled process with an active award. Threshold = the bound crossed (the
-- lower one when inside the band). Not computable without the deadline or the award date.
with awarded as (
    select distinct ocid from {{ ref('int_risk__lots') }} where is_awarded
),

processes as (
    select p.*, {{ risk_days('p.tender_end_at', 'p.award_date') }} as days
    from {{ ref('int_risk__processes') }} as p
    inner join awarded as a on a.ocid = p.ocid
    where p.is_competitive and not p.is_cancelled
),

items as (
    select
        ocid,
        ocid as object_id,
        days is not null as computable,
        days < {{ var('risk_decision_min_days') }} or days > {{ var('risk_decision_max_days') }} as flagged,
        days as value,
        case when days > {{ var('risk_decision_max_days') }} then {{ var('risk_decision_max_days') }}
            else {{ var('risk_decision_min_days') }} end as threshold,
        greatest({{ var('risk_decision_min_days') }} - days, days - {{ var('risk_decision_max_days') }}) as severity,
        null as lot_ids,
        null as bid_ids,
        null as contract_ids,
        null as party_ids,
        json_object(
            'deadline', {{ risk_ts('tender_end_at') }},
            'award_date', {{ risk_ts('award_date') }},
            'days', days,
            'min_days', {{ var('risk_decision_min_days') }},
            'max_days', {{ var('risk_decision_max_days') }}
        ) as detail,
        case
            when tender_end_at is null then 'no bid deadline'
            when award_date is null then 'no award date'
        end as note
    from processes
)

{{ risk_items_select('items', 'DECISION_PERIOD', 'process') }}
