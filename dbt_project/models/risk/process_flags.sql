-- One row per contracting process and process-grain flag that applies to it (a flag that does not
-- apply, e.g. R018 to a direct award, has no row). Rolls up int_risk__flag_items: flagged when
-- any object (lot, contract, item) is flagged, else not_flagged when any is measured, else
-- not_computable. value / threshold / note: of the most severe object; the id lists: the objects
-- that raise the flag (empty unless flagged); evidence: the details of the flagged objects, or of
-- the most severe object when none is flagged (bounded size at national scale).
with items as (
    select * from {{ ref('int_risk__flag_items') }}
),

picked as (
    select ocid, flag_code, value, threshold, note, detail
    from (
        select
            *,
            row_number() over (
                partition by ocid, flag_code
                order by
                    case status when 'flagged' then 0 when 'not_flagged' then 1 else 2 end,
                    severity desc nulls last,
                    object_id
            ) as pick
        from items
    )
    where pick = 1
),

rolled as (
    select
        ocid,
        flag_code,
        min(object_type) as object_type,
        count(*) as objects,
        count(*) filter (where status = 'flagged') as flagged_objects,
        count(*) filter (where status = 'not_flagged') as clear_objects,
        list_sort(list_distinct(flatten(list(lot_ids) filter (where status = 'flagged')))) as lot_ids,
        list_sort(list_distinct(flatten(list(bid_ids) filter (where status = 'flagged')))) as bid_ids,
        list_sort(list_distinct(flatten(list(contract_ids) filter (where status = 'flagged')))) as contract_ids,
        list_sort(list_distinct(flatten(list(party_ids) filter (where status = 'flagged')))) as party_ids,
        list(detail order by object_id) filter (where status = 'flagged') as flagged_details
    from items
    group by ocid, flag_code
)

select
    cast(r.ocid as varchar) as ocid,
    cast(r.flag_code as varchar) as flag_code,
    cast(case
        when r.flagged_objects > 0 then 'flagged'
        when r.clear_objects > 0 then 'not_flagged'
        else 'not_computable'
    end as varchar) as status,
    cast(p.value as double) as value,
    cast(p.threshold as double) as threshold,
    cast(coalesce(r.lot_ids, {{ risk_no_ids() }}) as varchar[]) as lot_ids,
    cast(coalesce(r.bid_ids, {{ risk_no_ids() }}) as varchar[]) as bid_ids,
    cast(coalesce(r.contract_ids, {{ risk_no_ids() }}) as varchar[]) as contract_ids,
    cast(coalesce(r.party_ids, {{ risk_no_ids() }}) as varchar[]) as party_ids,
    cast(json_object(
        'object_type', r.object_type,
        'objects', r.objects,
        'flagged_objects', r.flagged_objects,
        'details', case when r.flagged_objects > 0 then to_json(r.flagged_details) else to_json([p.detail]) end
    ) as json) as evidence,
    cast(p.note as varchar) as note
from rolled as r
inner join picked as p on p.ocid = r.ocid and p.flag_code = r.flag_code
