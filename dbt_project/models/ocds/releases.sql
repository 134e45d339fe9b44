-- One compiled release per contracting process (announcement).
{{ process_incremental_config() }}
with activity as (
    select ocid, last_updated_at as changed_at from {{ ref('int_goszakup__announcements') }}
    union all
    select ocid, last_updated_at from {{ ref('int_goszakup__lots') }}
    union all
    select ocid, coalesce(last_updated_at, signed_at, created_at) from {{ ref('int_goszakup__contracts') }}
),

release_date as (
    select ocid, max(changed_at) as release_date from activity where {{ changed_processes_only('ocid') }} group by ocid
)

select
    cast(a.ocid as varchar) as ocid,
    cast(a.ocid || '-' || strftime(coalesce(d.release_date, a.published_at) at time zone 'UTC', '%Y-%m-%dT%H:%M:%SZ') as varchar) as id,
    cast(coalesce(d.release_date, a.published_at) as timestamptz) as date,
    cast(['compiled'] as varchar[]) as tag,
    cast('tender' as varchar) as initiation_type,
    cast('ru' as varchar) as language,
    cast(b.party_id as varchar) as buyer_id,
    cast(b.name_ru as varchar) as buyer_name,
    cast(year(timezone('{{ var("source_timezone") }}', a.published_at)) as integer) as publication_year,
    cast(a.announcement_id as bigint) as announcement_id
from {{ ref('int_goszakup__announcements') }} as a
left join release_date as d on d.ocid = a.ocid
left join {{ ref('int_goszakup__identifiers') }} as b on b.identifier = a.buyer_bin
where {{ changed_processes_only('a.ocid') }}
