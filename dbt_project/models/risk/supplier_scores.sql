-- Composite risk score per supplier (the processes it won a contract in): score = the mean of the processes' composite scores
-- (risk.process_scores, exact decimal mean), as GTI's organisation-level CRI; organisation_score =
-- the share of the organisation-grain flags (risk.organisation_flags, role supplier) that are flagged
-- among those computable.
with members as (
    select distinct ocid, unnest(supplier_ids) as party_id from {{ ref('int_risk__contracts') }}
),

processes as (
    select
        m.party_id,
        count(*) as processes,
        count(s.score) as scored_processes,
        count(*) filter (where s.flagged_components > 0) as flagged_processes,
        sum(cast(s.score as decimal(18, 12))) / nullif(count(s.score), 0) as score
    from members as m
    inner join {{ ref('process_scores') }} as s on s.ocid = m.ocid
    group by m.party_id
),

organisation as (
    select
        party_id,
        count(*) filter (where status <> 'not_computable') as computable_flags,
        count(*) filter (where status = 'flagged') as flagged_flags,
        list_sort(list(flag_code) filter (where status = 'flagged')) as flagged_codes
    from {{ ref('organisation_flags') }}
    where role = 'supplier'
    group by party_id
),

parties as (
    select party_id from processes
    union
    select party_id from organisation
)

select
    cast(p.party_id as varchar) as supplier_id,
    cast(i.name_ru as varchar) as supplier_name,
    cast(coalesce(s.processes, 0) as integer) as processes,
    cast(coalesce(s.scored_processes, 0) as integer) as scored_processes,
    cast(coalesce(s.flagged_processes, 0) as integer) as flagged_processes,
    cast(s.score as double) as score,
    cast(coalesce(o.computable_flags, 0) as integer) as organisation_flags_computable,
    cast(coalesce(o.flagged_flags, 0) as integer) as organisation_flags_flagged,
    cast(case when o.computable_flags > 0 then o.flagged_flags / o.computable_flags end as double) as organisation_score,
    cast(coalesce(o.flagged_codes, {{ risk_no_ids() }}) as varchar[]) as flagged_codes
from parties as p
left join processes as s on s.party_id = p.party_id
left join organisation as o on o.party_id = p.party_id
left join {{ ref('int_goszakup__identifiers') }} as i on i.party_id = p.party_id
