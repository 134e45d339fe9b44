-- One row per contracting process (ocid) with what the risk flags need: buyer, region, year,
-- method and its kind, status, tender period and submission deadline, award date, number of
-- tenderers, and the failed process a re-procurement follows. Reads only published tables
-- (risk_input: ocds.tenders, ocds.releases, risk.process_context), so a version's flags can be
-- recomputed from its own files and any publisher's OCDS can be scored (pipelines.red_flags).
-- Deadline (var risk_r003_deadline): latest = the later of tenderPeriod.endDate and the repeat
-- submission deadline (goszakup reopens submission); tender_period_end = tenderPeriod.endDate only.
with base as (
    select
        t.ocid,
        t.announcement_id,
        r.buyer_id,
        r.buyer_name,
        c.buyer_identifier,
        c.region_code,
        c.region_name,
        r.publication_year,
        t.date_published as published_at,
        t.trade_method_id,
        t.procurement_method,
        t.procurement_method_details,
        t.status as tender_status,
        t.tender_period_start_date as tender_start_at,
        {%- if var('risk_r003_deadline', 'latest') == 'latest' %}
        greatest(t.tender_period_end_date, c.repeat_submission_deadline) as tender_end_at,
        {%- else %}
        t.tender_period_end_date as tender_end_at,
        {%- endif %}
        t.award_period_start_date as award_date,
        t.value_amount as planned_value,
        t.number_of_tenderers,
        c.parent_ocid
    from {{ risk_input('tenders') }} as t
    inner join {{ risk_input('releases') }} as r on r.ocid = t.ocid
    left join {{ risk_input('process_context') }} as c on c.ocid = t.ocid
)

select
    b.ocid,
    b.announcement_id,
    b.buyer_id,
    b.buyer_name,
    b.buyer_identifier,
    b.region_code,
    b.region_name,
    b.publication_year,
    b.published_at,
    b.trade_method_id,
    b.procurement_method,
    b.procurement_method_details,
    coalesce(b.procurement_method in ({{ risk_in(var('risk_competitive_methods')) }}), false) as is_competitive,
    {{ risk_method_in('b.procurement_method', var('risk_open_methods')) }} as is_open,
    {{ risk_method_in('b.procurement_method', var('risk_bid_flag_methods')) }} as is_bid_compared,
    not coalesce(
        b.procurement_method_details in ({{ risk_in(var('risk_no_price_comparison_method_details')) }}), false
    ) as is_price_compared,
    coalesce(b.procurement_method in ({{ risk_in(var('risk_direct_methods')) }}), false) as is_direct,
    b.tender_status,
    coalesce(b.tender_status = 'cancelled', false) as is_cancelled,
    b.tender_start_at,
    b.tender_end_at,
    b.award_date,
    b.planned_value,
    b.number_of_tenderers,
    b.parent_ocid,
    p.tender_status as parent_tender_status,
    p.tender_end_at as parent_tender_end_at
from base as b
left join base as p on p.ocid = b.parent_ocid
