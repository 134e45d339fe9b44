-- NEW_COMPANY (GTI CRI "new company"): the winner was registered fewer than var
-- risk_new_company_days days before the contract was signed (else the award date). Item = an
-- original contract of an active award. Value = days registered. Not computable without the
-- supplier's registration date (participant register) or the contract date.
with items as (
    select
        c.ocid,
        c.contract_id as object_id,
        c.contract_date is not null and s.registered_at is not null as computable,
        {{ risk_days('s.registered_at', 'c.contract_date') }} < {{ var('risk_new_company_days') }} as flagged,
        {{ risk_days('s.registered_at', 'c.contract_date') }} as value,
        {{ var('risk_new_company_days') }} as threshold,
        -{{ risk_days('s.registered_at', 'c.contract_date') }} as severity,
        c.lot_ids,
        null as bid_ids,
        [c.contract_id] as contract_ids,
        c.supplier_ids as party_ids,
        json_object(
            'contract_id', c.contract_id,
            'supplier', c.supplier_identifier,
            'registered', {{ risk_ts('s.registered_at') }},
            'signed', {{ risk_ts('c.contract_date') }}
        ) as detail,
        case
            when c.contract_date is null then 'no signing or award date'
            when s.identifier is null then 'supplier not in the participant register'
            when s.registered_at is null then 'no registration date'
        end as note
    from {{ ref('int_risk__contracts') }} as c
    left join {{ ref('int_risk__participants') }} as s on s.identifier = c.supplier_identifier
)

{{ risk_items_select('items', 'NEW_COMPANY', 'contract') }}
