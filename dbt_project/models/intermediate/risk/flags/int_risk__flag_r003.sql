-- R003 Short submission period (Cardinal R003). Item = the process. Open procedures (var
-- risk_open_methods), not cancelled: flagged when the tender period in whole days (floor of
-- end - start) is below var risk_r003_min_days (or the method's entry of
-- risk_r003_min_days_by_method). Not computable without start or end.
with processes as (
    select
        *,
        floor({{ risk_days('tender_start_at', 'tender_end_at') }}) as days,
        {{ risk_r003_threshold('coalesce(cast(trade_method_id as varchar), procurement_method_details)') }} as min_days
    from {{ ref('int_risk__processes') }}
    where is_open and not is_cancelled
),

items as (
    select
        ocid,
        ocid as object_id,
        tender_start_at is not null and tender_end_at is not null as computable,
        days < min_days as flagged,
        days as value,
        min_days as threshold,
        -days as severity,
        null as lot_ids,
        null as bid_ids,
        null as contract_ids,
        null as party_ids,
        json_object(
            'tender_period_start', {{ risk_ts('tender_start_at') }},
            'tender_period_end', {{ risk_ts('tender_end_at') }},
            'whole_days', days,
            'min_days', min_days,
            'trade_method_id', trade_method_id
        ) as detail,
        case when tender_start_at is null or tender_end_at is null then 'tender period start or end missing' end
            as note
    from processes
)

{{ risk_items_select('items', 'R003', 'process') }}
