-- BENFORD (value digits), buyer grain: mean absolute deviation (MAD) of the first-digit shares of
-- the buyer's original contract values (net of VAT, >= 1) from Benford's law, log10(1 + 1/d).
-- Flagged when MAD > var risk_benford_max_mad (Nigrini: > 0.015 is nonconformity). Buyers with
-- fewer than var risk_benford_min_contracts such contracts are not computable.
with digits as (
    select buyer_id, cast(left(cast(cast(floor(value_net) as bigint) as varchar), 1) as integer) as digit
    from {{ ref('int_risk__contracts') }}
    where value_net >= 1 and buyer_id is not null
),

counts as (
    select d.buyer_id, g.digit, count(x.digit) as n
    from (select distinct buyer_id from digits) as d
    cross join (select unnest(range(1, 10)) as digit) as g
    left join digits as x on x.buyer_id = d.buyer_id and x.digit = g.digit
    group by d.buyer_id, g.digit
),

totals as (
    select buyer_id, sum(n) as contracts from counts group by buyer_id
),

shares as (
    select
        c.buyer_id,
        t.contracts,
        list(c.n order by c.digit) as observed,
        list(abs(c.n / t.contracts - log10(1 + 1 / c.digit)) order by c.digit) as deviations
    from counts as c
    inner join totals as t on t.buyer_id = c.buyer_id
    group by c.buyer_id, t.contracts
),

mad as (
    select buyer_id, contracts, observed, list_sum(deviations) / 9 as mad
    from shares
),

orgs as (
    select
        buyer_id as party_id,
        contracts >= {{ var('risk_benford_min_contracts') }} as computable,
        mad > {{ var('risk_benford_max_mad') }} as flagged,
        mad as value,
        {{ var('risk_benford_max_mad') }} as threshold,
        null as ocids,
        null as contract_ids,
        null as bid_ids,
        null as party_ids,
        json_object('contracts', contracts, 'first_digit_counts', observed, 'mad', mad) as evidence,
        case when contracts < {{ var('risk_benford_min_contracts') }}
            then 'fewer than {{ var("risk_benford_min_contracts") }} contracts' end as note
    from mad
)

{{ risk_org_select('orgs', 'BENFORD', 'buyer') }}
