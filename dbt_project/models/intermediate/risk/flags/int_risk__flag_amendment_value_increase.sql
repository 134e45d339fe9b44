-- AMENDMENT_VALUE_INCREASE (ours; the sandbox's "inflated amendment"): the latest amendment's net
-- value is at least var risk_amendment_increase_min_ratio times the original contract's. Latest =
-- by amendment date, then id. Item = an original contract (no amendment: ratio 1). Not computable
-- without a positive original value or the latest amendment's value.
with measured as (
    select
        *,
        case when amendment_count > 0 then amendments[amendment_count] end as latest,
        case when amendment_count = 0 then 1.0 else amendments[amendment_count].value_net / nullif(value_net, 0) end
            as ratio
    from {{ ref('int_risk__contracts') }}
),

items as (
    select
        ocid,
        contract_id as object_id,
        ratio is not null and value_net > 0 as computable,
        ratio >= {{ var('risk_amendment_increase_min_ratio') }} as flagged,
        ratio as value,
        {{ var('risk_amendment_increase_min_ratio') }} as threshold,
        ratio as severity,
        lot_ids,
        null as bid_ids,
        [contract_id] as contract_ids,
        supplier_ids as party_ids,
        json_object(
            'contract_id', contract_id,
            'original_value_net', value_net,
            'latest_amendment_id', latest.id,
            'latest_value_net', latest.value_net,
            'amendments', amendment_count
        ) as detail,
        case
            when coalesce(value_net, 0) <= 0 then 'no positive original value'
            when ratio is null then 'the latest amendment has no value'
        end as note
    from measured
)

{{ risk_items_select('items', 'AMENDMENT_VALUE_INCREASE', 'contract') }}
