-- FREQUENT_PRICE_CHANGES (Prozorro sas-3-4): the contract value was changed more than once within
-- var risk_price_changes_window_days days. A change = an amendment whose net value differs from
-- the version before it (original, then amendments by date and id). Value = the most changes in
-- one window (from a change to window days after). Flagged when >= var risk_price_changes_min.
-- Item = an original contract. Not computable when an amendment has no date or value.
with contracts as (
    select
        *,
        coalesce(list_bool_or(list_transform(amendments, lambda a: a.date is null or a.value_net is null)), false)
            as incomplete
    from {{ ref('int_risk__contracts') }}
),

versions as (
    select
        contract_id,
        amendments[k] as amendment,
        case when k = 1 then value_net else amendments[k - 1].value_net end as previous_value
    from (select *, unnest(range(1, amendment_count + 1)) as k from contracts where amendment_count > 0)
),

changes as (
    select contract_id, amendment.id as amendment_id, {{ risk_local('amendment.date') }} as changed_local
    from versions
    where amendment.value_net is distinct from previous_value and amendment.date is not null
),

windows as (
    select a.contract_id, a.amendment_id, count(*) as changes, list_sort(list(b.amendment_id)) as members
    from changes as a
    inner join changes as b
        on b.contract_id = a.contract_id
        and b.changed_local between a.changed_local and a.changed_local + to_days({{ var('risk_price_changes_window_days') }})
    group by a.contract_id, a.amendment_id
),

busiest as (
    select * from (
        select *, row_number() over (partition by contract_id order by changes desc, amendment_id) as rn
        from windows
    )
    where rn = 1
),

items as (
    select
        c.ocid,
        c.contract_id as object_id,
        not c.incomplete as computable,
        coalesce(w.changes, 0) >= {{ var('risk_price_changes_min') }} as flagged,
        coalesce(w.changes, 0) as value,
        {{ var('risk_price_changes_min') }} as threshold,
        coalesce(w.changes, 0) as severity,
        c.lot_ids,
        null as bid_ids,
        [c.contract_id] as contract_ids,
        c.supplier_ids as party_ids,
        json_object(
            'contract_id', c.contract_id,
            'window_days', {{ var('risk_price_changes_window_days') }},
            'value_changes_in_window', coalesce(w.members, [])
        ) as detail,
        case when c.incomplete then 'an amendment has no date or value' end as note
    from contracts as c
    left join busiest as w on w.contract_id = c.contract_id
)

{{ risk_items_select('items', 'FREQUENT_PRICE_CHANGES', 'contract') }}
