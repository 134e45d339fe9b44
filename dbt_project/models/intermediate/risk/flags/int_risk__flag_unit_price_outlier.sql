-- UNIT_PRICE_OUTLIER (Kazakhstan: unit cost of like items): a contract item's unit price (net of
-- VAT) is a high outlier among items of the same ENSTRU code and region: price >= Q3 + k IQR of
-- its group (and above Q3). Groups need var risk_unit_price_min_items items. Item = an item of an
-- original contract. Value = the unit price; threshold = its group's upper fence; severity =
-- price / fence (picks the process's most extreme item). Low prices are not flagged.
with fences as (
    select * from {{ ref('int_risk__fences') }} where flag_code = 'UNIT_PRICE_OUTLIER'
),

items as (
    select
        i.ocid,
        i.item_id as object_id,
        f.upper_fence is not null and i.unit_price_net > 0 as computable,
        {{ risk_beyond_fence('i.unit_price_net', 'f.upper_fence', 'f.q1', 'f.q3', 'upper') }} as flagged,
        i.unit_price_net as value,
        f.upper_fence as threshold,
        i.unit_price_net / nullif(f.upper_fence, 0) as severity,
        case when i.lot_id is not null then [i.lot_id] end as lot_ids,
        null as bid_ids,
        [i.contract_id] as contract_ids,
        case when i.supplier_id is not null then [i.supplier_id] end as party_ids,
        json_object(
            'item_id', i.item_id,
            'contract_id', i.contract_id,
            'classification', i.classification_id,
            'region', i.region_code,
            'unit_price_net', i.unit_price_net,
            'group_items', f.n,
            'q3', f.q3,
            'upper_fence', f.upper_fence
        ) as detail,
        case
            when i.classification_id is null then 'item not classified'
            when i.region_code is null then 'region unknown'
            when coalesce(i.unit_price_net, 0) <= 0 then 'no unit price'
            when f.upper_fence is null then 'fewer than {{ var("risk_unit_price_min_items") }} items of this code in the region'
        end as note
    from {{ ref('int_risk__contract_items') }} as i
    left join fences as f on f.group_key = i.classification_id || ' | ' || i.region_code
)

{{ risk_items_select('items', 'UNIT_PRICE_OUTLIER', 'item') }}
