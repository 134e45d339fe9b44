-- R035 All except winner disqualified (Cardinal R035), per lot. Item = a decided lot (an active
-- award, none pending) of a not cancelled process of var risk_bid_flag_methods with bids: flagged when exactly one tenderer has valid bids,
-- the suppliers of the lot's active awards are exactly that tenderer, and at least var
-- risk_r035_min_disqualified other tenderers were disqualified. Value = tenderers disqualified.
with lots as (
    select l.ocid, l.lot_id, l.award_ids, l.supplier_ids
    from {{ ref('int_risk__lots') }} as l
    inner join {{ ref('int_risk__processes') }} as p on p.ocid = l.ocid
    where l.is_decided and p.is_bid_compared and not p.is_cancelled
),

bids as (
    select
        ocid,
        lot_id,
        count(*) as bids,
        count(*) filter (where tenderer_id is null) as anonymous_bids,
        {{ risk_id_list('case when is_valid then tenderer_id end') }} as valid_tenderers,
        {{ risk_id_list('case when is_disqualified then tenderer_id end') }} as disqualified_tenderers,
        {{ risk_id_list('case when is_disqualified then bid_id end') }} as disqualified_bid_ids
    from {{ ref('int_risk__bids') }}
    group by ocid, lot_id
),

measured as (
    select
        l.*,
        b.bids,
        b.anonymous_bids,
        b.valid_tenderers,
        list_filter(b.disqualified_tenderers, lambda t: not list_contains(b.valid_tenderers, t)) as others_disqualified,
        b.disqualified_bid_ids
    from lots as l
    inner join bids as b on b.ocid = l.ocid and b.lot_id = l.lot_id
),

items as (
    select
        ocid,
        lot_id as object_id,
        anonymous_bids = 0 as computable,
        len(valid_tenderers) = 1
        and supplier_ids = valid_tenderers
        and len(others_disqualified) >= {{ var('risk_r035_min_disqualified') }} as flagged,
        len(others_disqualified) as value,
        {{ var('risk_r035_min_disqualified') }} as threshold,
        case when len(valid_tenderers) = 1 and supplier_ids = valid_tenderers then len(others_disqualified) else 0 end
            as severity,
        [lot_id] as lot_ids,
        disqualified_bid_ids as bid_ids,
        award_ids as contract_ids,
        list_sort(list_concat(valid_tenderers, others_disqualified)) as party_ids,
        json_object(
            'lot_id', lot_id,
            'valid_tenderers', valid_tenderers,
            'suppliers', supplier_ids,
            'disqualified_tenderers', others_disqualified
        ) as detail,
        case when anonymous_bids > 0 then 'a bid has no known tenderer' end as note
    from measured
)

{{ risk_items_select('items', 'R035', 'lot') }}
