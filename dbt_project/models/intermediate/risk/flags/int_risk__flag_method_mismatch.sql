-- METHOD_MISMATCH (Kazakhstan): the lot's planned method (lots.ref_trade_methods_id) differs from
-- the method actually used (ref_buy_trade_methods_id). Item = a lot of a not cancelled process.
-- Re-procurements (var risk_mismatch_exempt_trade_methods, goszakup 6: planned = the failed
-- tender's method) are not flagged. Not computable when either method is missing.
with items as (
    select
        l.ocid,
        l.lot_id as object_id,
        l.planned_trade_method_id is not null and l.trade_method_id is not null as computable,
        l.planned_trade_method_id <> l.trade_method_id
        and l.trade_method_id not in ({{ risk_in(var('risk_mismatch_exempt_trade_methods')) }}) as flagged,
        case when l.planned_trade_method_id <> l.trade_method_id
            and l.trade_method_id not in ({{ risk_in(var('risk_mismatch_exempt_trade_methods')) }}) then 1 else 0 end
            as value,
        1 as threshold,
        case when l.planned_trade_method_id <> l.trade_method_id
            and l.trade_method_id not in ({{ risk_in(var('risk_mismatch_exempt_trade_methods')) }}) then 1 else 0 end
            as severity,
        [l.lot_id] as lot_ids,
        null as bid_ids,
        l.award_ids as contract_ids,
        l.supplier_ids as party_ids,
        json_object(
            'lot_id', l.lot_id,
            'planned_trade_method_id', l.planned_trade_method_id,
            'trade_method_id', l.trade_method_id
        ) as detail,
        case
            when l.planned_trade_method_id is null then 'no planned method'
            when l.trade_method_id is null then 'no actual method'
            when l.planned_trade_method_id <> l.trade_method_id
                and l.trade_method_id in ({{ risk_in(var('risk_mismatch_exempt_trade_methods')) }})
                then 're-procurement after a failed tender: planned method is the failed one'
        end as note
    from {{ ref('int_risk__lots') }} as l
    inner join {{ ref('int_risk__processes') }} as p on p.ocid = l.ocid
    where not p.is_cancelled
)

{{ risk_items_select('items', 'METHOD_MISMATCH', 'lot') }}
