-- NON_OPEN (GTI CRI "non-open procedure"): the procedure is limited or direct (var
-- risk_non_open_methods; goszakup single source = methods 6 and 23). Item = the process (not
-- cancelled). Not computable when the method is unknown.
with items as (
    select
        ocid,
        ocid as object_id,
        procurement_method is not null as computable,
        procurement_method in ({{ risk_in(var('risk_non_open_methods')) }}) as flagged,
        case when procurement_method in ({{ risk_in(var('risk_non_open_methods')) }}) then 1 else 0 end as value,
        1 as threshold,
        case when procurement_method in ({{ risk_in(var('risk_non_open_methods')) }}) then 1 else 0 end as severity,
        null as lot_ids,
        null as bid_ids,
        null as contract_ids,
        null as party_ids,
        json_object('procurement_method', procurement_method, 'trade_method_id', trade_method_id) as detail,
        case when procurement_method is null then 'procurement method unknown' end as note
    from {{ ref('int_risk__processes') }}
    where not is_cancelled
)

{{ risk_items_select('items', 'NON_OPEN', 'process') }}
