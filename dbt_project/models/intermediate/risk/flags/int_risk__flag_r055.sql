-- R055 Repeated direct awards above the threshold: contract splitting (OCP red flag R055), per
-- contract. Item = an original direct contract (var risk_direct_methods) below the competitive
-- threshold var risk_split_threshold_kzt (value net of VAT). For every such contract A of a
-- buyer-supplier pair, the window = the pair's such contracts signed from A's signing to
-- var risk_split_window_days days after (local calendar). A window of at least
-- var risk_split_min_contracts contracts summing to at least the threshold is a split set: its
-- contracts are flagged. Value = the largest window sum containing the contract. Not computable
-- without the signing date, the value or a single supplier.
with small as (
    select
        ocid,
        contract_id,
        buyer_id,
        supplier_id,
        {{ risk_local('contract_date') }} as signed_local,
        contract_date,
        value_net
    from {{ ref('int_risk__contracts') }}
    where is_direct and (value_net < {{ var('risk_split_threshold_kzt') }} or value_net is null)
),

measurable as (
    select * from small
    where signed_local is not null and value_net is not null and supplier_id is not null and buyer_id is not null
),

windows as (
    select
        a.contract_id as anchor_id,
        count(*) as contracts,
        {{ risk_money_sum('b.value_net') }} as total,
        list_sort(list(b.contract_id)) as members
    from measurable as a
    inner join measurable as b
        on b.buyer_id = a.buyer_id
        and b.supplier_id = a.supplier_id
        and b.signed_local between a.signed_local and a.signed_local + to_days({{ var('risk_split_window_days') }})
    group by a.contract_id
),

membership as (
    select
        unnest(members) as contract_id,
        total,
        members,
        contracts >= {{ var('risk_split_min_contracts') }} and total >= {{ var('risk_split_threshold_kzt') }} as is_split
    from windows
),

per_contract as (
    select
        contract_id,
        max(total) as max_total,
        bool_or(is_split) as is_split,
        max(total) filter (where is_split) as split_total,
        list_sort(list_distinct(flatten(list(members) filter (where is_split)))) as split_members
    from membership
    group by contract_id
),

items as (
    select
        s.ocid,
        s.contract_id as object_id,
        s.signed_local is not null and s.value_net is not null and s.supplier_id is not null and s.buyer_id is not null
            as computable,
        coalesce(m.is_split, false) as flagged,
        coalesce(m.split_total, m.max_total) as value,
        {{ var('risk_split_threshold_kzt') }} as threshold,
        coalesce(m.split_total, m.max_total) as severity,
        null as lot_ids,
        null as bid_ids,
        case when m.is_split then m.split_members else [s.contract_id] end as contract_ids,
        [s.supplier_id] as party_ids,
        json_object(
            'contract_id', s.contract_id,
            'supplier_id', s.supplier_id,
            'signed', {{ risk_ts('s.contract_date') }},
            'value_net', s.value_net,
            'split_set', coalesce(m.split_members, []),
            'split_set_total', m.split_total
        ) as detail,
        case
            when s.signed_local is null then 'no signing or award date'
            when s.value_net is null then 'no contract value'
            when s.supplier_id is null then 'not exactly one supplier'
        end as note
    from small as s
    left join per_contract as m on m.contract_id = s.contract_id
)

{{ risk_items_select('items', 'R055', 'contract') }}
