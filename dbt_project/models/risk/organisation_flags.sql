-- One row per organisation, role (buyer, supplier, tenderer) and flag. Two sources: flags measured
-- natively per organisation (R025, R038, R048, BENFORD, DIRECT_AFTER_FAILED for buyers), and
-- process-grain flags rolled up to the organisations of the roles in seed risk_flags
-- (rolled_up_roles): a supplier / tenderer through the objects naming it (party_ids), a buyer
-- through its processes. Rolled up: flagged when any object is flagged; value / threshold of the
-- most severe object; ids: the flagged processes, contracts, bids and counterparties (for a buyer
-- the parties the objects name, for a supplier / tenderer the buyer and the other parties named).
with roles as (
    select flag_code, unnest(string_split(rolled_up_roles, '|')) as role
    from {{ ref('risk_flags') }}
    where coalesce(rolled_up_roles, '') <> ''
),

items as (
    select i.*, p.buyer_id
    from {{ ref('int_risk__flag_items') }} as i
    inner join {{ ref('int_risk__processes') }} as p on p.ocid = i.ocid
),

members as (
    select i.*, r.role, i.buyer_id as party_id, i.party_ids as counterparties
    from items as i
    inner join roles as r on r.flag_code = i.flag_code and r.role = 'buyer'
    union all
    select * exclude (member), member as party_id, list_concat([buyer_id], party_ids) as counterparties
    from (
        select i.*, r.role, unnest(i.party_ids) as member
        from items as i
        inner join roles as r on r.flag_code = i.flag_code and r.role <> 'buyer'
    )
),

picked as (
    select party_id, role, flag_code, value, threshold, note
    from (
        select
            *,
            row_number() over (
                partition by party_id, role, flag_code
                order by
                    case status when 'flagged' then 0 when 'not_flagged' then 1 else 2 end,
                    severity desc nulls last,
                    ocid,
                    object_id
            ) as pick
        from members
        where party_id is not null
    )
    where pick = 1
),

rolled as (
    select
        party_id,
        role,
        flag_code,
        count(*) as objects,
        count(*) filter (where status = 'flagged') as flagged_objects,
        count(*) filter (where status = 'not_flagged') as clear_objects,
        count(distinct ocid) as processes,
        list_sort(list(distinct ocid) filter (where status = 'flagged')) as ocids,
        list_sort(list_distinct(flatten(list(contract_ids) filter (where status = 'flagged')))) as contract_ids,
        list_sort(list_distinct(flatten(list(bid_ids) filter (where status = 'flagged')))) as bid_ids,
        list_sort(list_distinct(list_filter(
            flatten(list(counterparties) filter (where status = 'flagged')), lambda x: x is not null and x <> party_id
        ))) as party_ids
    from members
    where party_id is not null
    group by party_id, role, flag_code
),

rolled_up as (
    select
        r.party_id,
        r.role,
        r.flag_code,
        case
            when r.flagged_objects > 0 then 'flagged'
            when r.clear_objects > 0 then 'not_flagged'
            else 'not_computable'
        end as status,
        p.value,
        p.threshold,
        coalesce(r.ocids, {{ risk_no_ids() }}) as ocids,
        coalesce(r.contract_ids, {{ risk_no_ids() }}) as contract_ids,
        coalesce(r.bid_ids, {{ risk_no_ids() }}) as bid_ids,
        coalesce(r.party_ids, {{ risk_no_ids() }}) as party_ids,
        json_object(
            'rolled_up_from', 'process_flags',
            'processes', r.processes,
            'objects', r.objects,
            'flagged_objects', r.flagged_objects
        ) as evidence,
        p.note
    from rolled as r
    inner join picked as p on p.party_id = r.party_id and p.role = r.role and p.flag_code = r.flag_code
),

native as (
    select * from {{ ref('int_risk__org_flag_r025') }}
    union all
    select * from {{ ref('int_risk__org_flag_r038_buyer') }}
    union all
    select * from {{ ref('int_risk__org_flag_r038_tenderer') }}
    union all
    select * from {{ ref('int_risk__org_flag_r048') }}
    union all
    select * from {{ ref('int_risk__org_flag_benford') }}
    union all
    select * from {{ ref('int_risk__org_flag_direct_after_failed') }}
),

all_flags as (
    select * from native
    union all
    select * from rolled_up
)

select
    cast(f.party_id as varchar) as party_id,
    cast(f.role as varchar) as role,
    cast(i.name as varchar) as name,
    cast(f.flag_code as varchar) as flag_code,
    cast(f.status as varchar) as status,
    cast(f.value as double) as value,
    cast(f.threshold as double) as threshold,
    cast(f.ocids as varchar[]) as ocids,
    cast(f.contract_ids as varchar[]) as contract_ids,
    cast(f.bid_ids as varchar[]) as bid_ids,
    cast(f.party_ids as varchar[]) as party_ids,
    cast(f.evidence as json) as evidence,
    cast(f.note as varchar) as note
from all_flags as f
left join {{ risk_input('organisation_register') }} as i on i.party_id = f.party_id
