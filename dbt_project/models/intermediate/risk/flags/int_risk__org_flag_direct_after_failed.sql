-- DIRECT_AFTER_FAILED, buyer grain (Kazakhstan: tenders fail, then go single source to one
-- supplier): flagged when at least var risk_failed_direct_min_awards single-source awards after
-- failed tenders (flag DIRECT_AFTER_FAILED) went to the same supplier. Value = the most such awards
-- to one supplier. Buyers with no failed tender and no such award have no row.
with after_failed as (
    select i.ocid, p.buyer_id, i.contract_ids, unnest(i.party_ids) as supplier_id
    from {{ ref('int_risk__flag_direct_after_failed') }} as i
    inner join {{ ref('int_risk__processes') }} as p on p.ocid = i.ocid
    where i.status = 'flagged'
),

per_supplier as (
    select
        buyer_id,
        supplier_id,
        count(distinct ocid) as awards,
        {{ risk_id_list('ocid') }} as ocids,
        list_sort(list_distinct(flatten(list(contract_ids)))) as contract_ids
    from after_failed
    group by buyer_id, supplier_id
),

buyers as (
    select buyer_id from {{ ref('int_risk__processes') }}
    where tender_status = 'unsuccessful' and buyer_id is not null
    union
    select buyer_id from per_supplier
),

repeated as (
    select
        buyer_id,
        list_sort(list_distinct(flatten(list(ocids)))) as ocids,
        list_sort(list_distinct(flatten(list(contract_ids)))) as contract_ids,
        list_sort(list(supplier_id)) as supplier_ids
    from per_supplier
    where awards >= {{ var('risk_failed_direct_min_awards') }}
    group by buyer_id
),

totals as (
    select buyer_id, max(awards) as max_awards, sum(awards) as awards
    from per_supplier
    group by buyer_id
),

orgs as (
    select
        b.buyer_id as party_id,
        true as computable,
        r.buyer_id is not null as flagged,
        coalesce(t.max_awards, 0) as value,
        {{ var('risk_failed_direct_min_awards') }} as threshold,
        r.ocids,
        r.contract_ids,
        null as bid_ids,
        r.supplier_ids as party_ids,
        json_object('awards_after_failed_tenders', coalesce(t.awards, 0), 'most_to_one_supplier', coalesce(t.max_awards, 0))
            as evidence,
        null as note
    from buyers as b
    left join repeated as r on r.buyer_id = b.buyer_id
    left join totals as t on t.buyer_id = b.buyer_id
)

{{ risk_org_select('orgs', 'DIRECT_AFTER_FAILED', 'buyer') }}
