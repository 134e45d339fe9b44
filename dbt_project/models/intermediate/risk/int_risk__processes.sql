-- One row per contracting process (ocid) with what the risk flags need: buyer, region, year,
-- method and its kind, status, tender period (deadline = the later of the end date and the repeat
-- end date), award date, and the failed announcement a re-procurement follows.
with regions as (
    select code, any_value(name_ru) as name_ru
    from {{ ref('stg_goszakup__ref_kato') }}
    where code like '__0000000'
    group by code
),

base as (
    select
        t.ocid,
        t.announcement_id,
        r.buyer_id,
        r.buyer_name,
        a.buyer_bin as buyer_identifier,
        case when regexp_full_match(a.kato_code, '[0-9]{2}.*') then substr(a.kato_code, 1, 2) || '0000000' end
            as region_code,
        r.publication_year,
        t.date_published as published_at,
        t.trade_method_id,
        t.procurement_method,
        t.status as tender_status,
        t.tender_period_start_date as tender_start_at,
        greatest(t.tender_period_end_date, a.repeat_end_at) as tender_end_at,
        t.award_period_start_date as award_date,
        t.value_amount as planned_value,
        a.parent_announcement_id
    from {{ ref('tenders') }} as t
    inner join {{ ref('releases') }} as r on r.ocid = t.ocid
    inner join {{ ref('int_goszakup__announcements') }} as a on a.announcement_id = t.announcement_id
)

select
    b.ocid,
    b.announcement_id,
    b.buyer_id,
    b.buyer_name,
    b.buyer_identifier,
    b.region_code,
    coalesce(g.name_ru, b.region_code) as region_name,
    b.publication_year,
    b.published_at,
    b.trade_method_id,
    b.procurement_method,
    coalesce(b.procurement_method in ({{ risk_in(var('risk_competitive_methods')) }}), false) as is_competitive,
    coalesce(b.procurement_method in ({{ risk_in(var('risk_open_methods')) }}), false) as is_open,
    coalesce(b.procurement_method in ({{ risk_in(var('risk_direct_methods')) }}), false) as is_direct,
    b.tender_status,
    coalesce(b.tender_status = 'cancelled', false) as is_cancelled,
    b.tender_start_at,
    b.tender_end_at,
    b.award_date,
    b.planned_value,
    b.parent_announcement_id,
    p.ocid as parent_ocid,
    p.tender_status as parent_tender_status,
    p.tender_end_at as parent_tender_end_at
from base as b
left join regions as g on g.code = b.region_code
left join base as p on p.announcement_id = b.parent_announcement_id
