-- The tender of each contracting process (from the announcement).
{{ process_incremental_config() }}
with tenderers as (
    select ocid, count(distinct supplier_biin) as number_of_tenderers
    from {{ ref('int_goszakup__application_lots') }}
    where {{ changed_processes_only('ocid') }}
    group by ocid
)

select
    cast(a.ocid as varchar) as ocid,
    cast(a.announcement_number as varchar) as id,
    cast(a.title_ru as varchar) as title,
    cast(a.tender_status as varchar) as status,
    cast(a.tender_status_details as varchar) as status_details,
    cast(a.procurement_method as varchar) as procurement_method,
    cast(a.procurement_method_details as varchar) as procurement_method_details,
    cast(a.main_procurement_category as varchar) as main_procurement_category,
    cast(a.subject_type_name_ru as varchar) as main_procurement_category_details,
    cast(a.total_amount as double) as value_amount,
    cast('{{ var("currency") }}' as varchar) as value_currency,
    cast(p.party_id as varchar) as procuring_entity_id,
    cast(p.name_ru as varchar) as procuring_entity_name,
    cast(a.published_at as timestamptz) as date_published,
    cast(a.tender_start_at as timestamptz) as tender_period_start_date,
    cast(a.tender_end_at as timestamptz) as tender_period_end_date,
    cast(a.discussion_start_at as timestamptz) as enquiry_period_start_date,
    cast(a.discussion_end_at as timestamptz) as enquiry_period_end_date,
    cast(a.results_published_at as timestamptz) as award_period_start_date,
    cast(coalesce(t.number_of_tenderers, 0) as integer) as number_of_tenderers,
    cast(a.lot_count as integer) as lot_count,
    cast(a.trade_method_id as integer) as trade_method_id,
    cast(a.announcement_id as bigint) as announcement_id
from {{ ref('int_goszakup__announcements') }} as a
left join tenderers as t on t.ocid = a.ocid
left join {{ ref('int_goszakup__identifiers') }} as p on p.identifier = a.organizer_bin
where {{ changed_processes_only('a.ocid') }}
