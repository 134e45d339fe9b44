-- BUYER_DEPENDENCE (GTI CRI "supplier share"): the winner's share of its buyer's spend in the
-- contract's year (original contracts, net of VAT, exact sums). Item = an original contract.
-- Flagged when the share >= var risk_dependence_min_share. Not computable when the buyer signed
-- fewer than var risk_dependence_min_contracts contracts that year (CRI: more than 9), or the
-- contract has no single supplier, year or value.
with contracts as (
    select * from {{ ref('int_risk__contracts') }}
    where buyer_id is not null and contract_year is not null
),

buyer_year as (
    select buyer_id, contract_year, count(*) as contracts, {{ risk_money_sum('value_net') }} as spend
    from contracts
    group by buyer_id, contract_year
),

pair_year as (
    select buyer_id, contract_year, supplier_id, count(*) as contracts, {{ risk_money_sum('value_net') }} as spend
    from contracts
    where supplier_id is not null
    group by buyer_id, contract_year, supplier_id
),

items as (
    select
        c.ocid,
        c.contract_id as object_id,
        b.contracts >= {{ var('risk_dependence_min_contracts') }} and b.spend > 0
        and c.supplier_id is not null and c.value_net is not null as computable,
        s.spend / b.spend >= {{ var('risk_dependence_min_share') }} as flagged,
        s.spend / b.spend as value,
        {{ var('risk_dependence_min_share') }} as threshold,
        s.spend / b.spend as severity,
        c.lot_ids,
        null as bid_ids,
        [c.contract_id] as contract_ids,
        c.supplier_ids as party_ids,
        json_object(
            'contract_id', c.contract_id,
            'year', c.contract_year,
            'supplier_id', c.supplier_id,
            'supplier_contracts', s.contracts,
            'supplier_spend', s.spend,
            'buyer_contracts', b.contracts,
            'buyer_spend', b.spend
        ) as detail,
        case
            when c.supplier_id is null then 'not exactly one supplier'
            when c.value_net is null then 'no contract value'
            when b.contracts < {{ var('risk_dependence_min_contracts') }}
                then 'buyer signed fewer than {{ var("risk_dependence_min_contracts") }} contracts that year'
            when b.spend <= 0 then 'buyer spend is zero'
        end as note
    from {{ ref('int_risk__contracts') }} as c
    left join buyer_year as b on b.buyer_id = c.buyer_id and b.contract_year = c.contract_year
    left join pair_year as s on s.buyer_id = c.buyer_id and s.contract_year = c.contract_year and s.supplier_id = c.supplier_id
)

{{ risk_items_select('items', 'BUYER_DEPENDENCE', 'contract') }}
