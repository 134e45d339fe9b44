-- DIRECT_AFTER_FAILED (Kazakhstan: single source after a failed tender, the main loophole). Item =
-- a direct (var risk_direct_methods), not cancelled process: flagged when its trade method is a
-- re-procurement after failure (var risk_after_failed_trade_methods, goszakup 6) or the
-- announcement it follows (parent) was unsuccessful. Evidence: the failed process, the days since
-- its deadline, and whether the winner had bid in it.
with processes as (
    select * from {{ ref('int_risk__processes') }} where is_direct and not is_cancelled
),

winners as (
    select ocid, {{ risk_id_list('contract_id') }} as contract_ids, list_sort(list_distinct(flatten(list(supplier_ids)))) as supplier_ids
    from {{ ref('int_risk__contracts') }}
    group by ocid
),

failed_bidders as (
    select p.ocid, {{ risk_id_list('b.tenderer_id') }} as tenderer_ids
    from processes as p
    inner join {{ ref('int_risk__bids') }} as b on b.ocid = p.parent_ocid
    group by p.ocid
),

items as (
    select
        p.ocid,
        p.ocid as object_id,
        true as computable,
        p.trade_method_id in ({{ risk_in(var('risk_after_failed_trade_methods')) }})
        or coalesce(p.parent_tender_status = 'unsuccessful', false) as flagged,
        case when p.trade_method_id in ({{ risk_in(var('risk_after_failed_trade_methods')) }})
            or coalesce(p.parent_tender_status = 'unsuccessful', false) then 1 else 0 end as value,
        1 as threshold,
        case when p.trade_method_id in ({{ risk_in(var('risk_after_failed_trade_methods')) }})
            or coalesce(p.parent_tender_status = 'unsuccessful', false) then 1 else 0 end as severity,
        null as lot_ids,
        null as bid_ids,
        w.contract_ids,
        w.supplier_ids as party_ids,
        json_object(
            'trade_method_id', p.trade_method_id,
            'failed_ocid', p.parent_ocid,
            'failed_status', p.parent_tender_status,
            'days_since_failed_deadline', {{ risk_days('p.parent_tender_end_at', 'p.published_at') }},
            'winner_bid_in_failed_tender', len(list_intersect(coalesce(w.supplier_ids, []), coalesce(f.tenderer_ids, []))) > 0
        ) as detail,
        null as note
    from processes as p
    left join winners as w on w.ocid = p.ocid
    left join failed_bidders as f on f.ocid = p.ocid
)

{{ risk_items_select('items', 'DIRECT_AFTER_FAILED', 'process') }}
