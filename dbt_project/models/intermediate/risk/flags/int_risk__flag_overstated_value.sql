-- OVERSTATED_VALUE (Prozorro sas-3-6): the value awarded on a lot is at least 30% below its
-- expected value, i.e. awarded / expected <= var risk_overstated_max_ratio. Awarded = the lot's
-- items in original contracts of active awards (net of VAT; works for several contracts per lot
-- and several lots per contract). Item = an awarded lot of a not cancelled process. Not computable
-- without a positive expected value or with an item without value.
with items as (
    select
        l.ocid,
        l.lot_id as object_id,
        l.planned_amount > 0 and l.awarded_value_net is not null and l.items_without_value = 0 as computable,
        l.awarded_value_net / l.planned_amount <= {{ var('risk_overstated_max_ratio') }} as flagged,
        l.awarded_value_net / l.planned_amount as value,
        {{ var('risk_overstated_max_ratio') }} as threshold,
        -(l.awarded_value_net / l.planned_amount) as severity,
        [l.lot_id] as lot_ids,
        null as bid_ids,
        l.award_ids as contract_ids,
        l.supplier_ids as party_ids,
        json_object(
            'lot_id', l.lot_id,
            'expected_value', l.planned_amount,
            'awarded_value_net', l.awarded_value_net,
            'contract_ids', l.award_ids
        ) as detail,
        case
            when coalesce(l.planned_amount, 0) <= 0 then 'no positive expected value'
            when l.awarded_value_net is null or l.items_without_value > 0 then 'awarded value unknown'
        end as note
    from {{ ref('int_risk__lots') }} as l
    inner join {{ ref('int_risk__processes') }} as p on p.ocid = l.ocid
    where l.is_awarded and not p.is_cancelled
)

{{ risk_items_select('items', 'OVERSTATED_VALUE', 'lot') }}
