-- Published risk input: what the risk flags need about a contracting process that the OCDS tables
-- do not carry (goszakup extensions), so that a version's flags can be recomputed from the version's
-- own files (python -m publish recompute-flags). One row per ocds.tenders row.
with regions as (
    select code, any_value(name_ru) as name_ru
    from {{ ref('stg_goszakup__ref_kato') }}
    where code like '__0000000'
    group by code
),

context as (
    select
        t.ocid,
        a.buyer_bin as buyer_identifier,
        case when regexp_full_match(a.kato_code, '[0-9]{2}.*') then substr(a.kato_code, 1, 2) || '0000000' end
            as region_code,
        a.repeat_end_at as repeat_submission_deadline,
        a.parent_announcement_id
    from {{ ref('tenders') }} as t
    inner join {{ ref('int_goszakup__announcements') }} as a on a.announcement_id = t.announcement_id
)

select
    cast(c.ocid as varchar) as ocid,
    cast(c.buyer_identifier as varchar) as buyer_identifier,
    cast(c.region_code as varchar) as region_code,
    cast(coalesce(g.name_ru, c.region_code) as varchar) as region_name,
    cast(c.repeat_submission_deadline as timestamptz) as repeat_submission_deadline,
    cast(p.ocid as varchar) as parent_ocid
from context as c
left join regions as g on g.code = c.region_code
left join {{ ref('tenders') }} as p on p.announcement_id = c.parent_announcement_id
