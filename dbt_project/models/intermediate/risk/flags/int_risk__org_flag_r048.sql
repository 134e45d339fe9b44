-- R048 Heterogeneous supplier (Cardinal R048), supplier grain: the variety (distinct first-level
-- classification prefixes, var risk_r048_digits characters, of the items of contracts awarded to
-- it alone) >= Q3 + k IQR over suppliers with at least var risk_r048_min_processes processes won
-- (and above Q3). Suppliers with fewer processes are not computable.
with fence as (
    select * from {{ ref('int_risk__fences') }} where flag_code = 'R048' and metric = 'variety'
),

orgs as (
    select
        s.supplier_id as party_id,
        s.processes >= {{ var('risk_r048_min_processes') }} and f.upper_fence is not null as computable,
        {{ risk_beyond_fence('s.variety', 'f.upper_fence', 'f.q1', 'f.q3', 'upper') }} as flagged,
        s.variety as value,
        f.upper_fence as threshold,
        s.ocids,
        s.contract_ids,
        null as bid_ids,
        null as party_ids,
        json_object(
            'processes', s.processes,
            'variety', s.variety,
            'prefixes', s.prefixes,
            'q1', f.q1,
            'q3', f.q3,
            'upper_fence', f.upper_fence
        ) as evidence,
        case when s.processes < {{ var('risk_r048_min_processes') }}
            then 'fewer than {{ var("risk_r048_min_processes") }} processes won' end as note
    from {{ ref('int_risk__supplier_variety') }} as s
    left join fence as f on true
)

{{ risk_org_select('orgs', 'R048', 'supplier') }}
