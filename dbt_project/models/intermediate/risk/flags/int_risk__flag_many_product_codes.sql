-- MANY_PRODUCT_CODES (Prozorro sas-3-3): one buyer-supplier pair under at least var
-- risk_product_codes_min distinct product codes (first var risk_product_code_length characters of
-- the ENSTRU code) in one year. Item = an original contract; value = its pair's distinct codes in
-- the contract's year. Not computable when the contract has no single supplier, no year, or the
-- pair has no classified item that year.
with items_coded as (
    select buyer_id, supplier_id, contract_year, left(classification_id, {{ var('risk_product_code_length') }}) as code
    from {{ ref('int_risk__contract_items') }}
    where classification_id is not null and supplier_id is not null and buyer_id is not null
),

pair_year as (
    select buyer_id, supplier_id, contract_year, count(distinct code) as codes, list_sort(list(distinct code)) as code_list
    from items_coded
    group by buyer_id, supplier_id, contract_year
),

pair_contracts as (
    select buyer_id, supplier_id, contract_year, {{ risk_id_list('contract_id') }} as contract_ids
    from {{ ref('int_risk__contracts') }}
    group by buyer_id, supplier_id, contract_year
),

items as (
    select
        c.ocid,
        c.contract_id as object_id,
        y.codes is not null as computable,
        y.codes >= {{ var('risk_product_codes_min') }} as flagged,
        y.codes as value,
        {{ var('risk_product_codes_min') }} as threshold,
        y.codes as severity,
        c.lot_ids,
        null as bid_ids,
        pc.contract_ids,
        c.supplier_ids as party_ids,
        json_object(
            'contract_id', c.contract_id,
            'year', c.contract_year,
            'supplier_id', c.supplier_id,
            'codes', coalesce(y.code_list, [])
        ) as detail,
        case
            when c.supplier_id is null then 'not exactly one supplier'
            when c.contract_year is null then 'no contract date'
            when y.codes is null then 'no classified item for the pair that year'
        end as note
    from {{ ref('int_risk__contracts') }} as c
    left join pair_year as y
        on y.buyer_id = c.buyer_id and y.supplier_id = c.supplier_id and y.contract_year = c.contract_year
    left join pair_contracts as pc
        on pc.buyer_id = c.buyer_id and pc.supplier_id = c.supplier_id and pc.contract_year = c.contract_year
)

{{ risk_items_select('items', 'MANY_PRODUCT_CODES', 'contract') }}
