-- MANY_AMENDMENTS (Prozorro ari-1-1): a contract amended at least var risk_many_amendments times.
-- Item = an original contract of an active award (no amendment: value 0).
with items as (
    select
        ocid,
        contract_id as object_id,
        true as computable,
        amendment_count >= {{ var('risk_many_amendments') }} as flagged,
        amendment_count as value,
        {{ var('risk_many_amendments') }} as threshold,
        amendment_count as severity,
        lot_ids,
        null as bid_ids,
        [contract_id] as contract_ids,
        supplier_ids as party_ids,
        json_object(
            'contract_id', contract_id,
            'amendments', coalesce(list_transform(amendments, lambda a: a.id), [])
        ) as detail,
        null as note
    from {{ ref('int_risk__contracts') }}
)

{{ risk_items_select('items', 'MANY_AMENDMENTS', 'contract') }}
