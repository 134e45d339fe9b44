-- VAT_NON_PAYER (Kazakhstan): VAT charged (value with VAT above the value without VAT by more than
-- var risk_vat_tolerance) by a supplier that is not a VAT payer (participant register vat_payer;
-- a place for the tax authority's status). Item = an original contract. Value = gross / net - 1.
-- Not computable when the supplier's VAT status is unknown or a value is missing.
with items as (
    select
        c.ocid,
        c.contract_id as object_id,
        s.is_vat_payer is not null and c.value_net > 0 and c.value_gross is not null as computable,
        not s.is_vat_payer and c.value_gross / c.value_net - 1 > {{ var('risk_vat_tolerance') }} as flagged,
        c.value_gross / c.value_net - 1 as value,
        {{ var('risk_vat_tolerance') }} as threshold,
        case when not s.is_vat_payer then c.value_gross / c.value_net - 1 else 0 end as severity,
        c.lot_ids,
        null as bid_ids,
        [c.contract_id] as contract_ids,
        c.supplier_ids as party_ids,
        json_object(
            'contract_id', c.contract_id,
            'supplier', c.supplier_identifier,
            'vat_payer', s.is_vat_payer,
            'value_net', c.value_net,
            'value_gross', c.value_gross
        ) as detail,
        case
            when s.identifier is null then 'supplier not in the participant register'
            when s.is_vat_payer is null then 'VAT-payer status unknown'
            when coalesce(c.value_net, 0) <= 0 or c.value_gross is null then 'contract value missing'
        end as note
    from {{ ref('int_risk__contracts') }} as c
    left join {{ ref('int_risk__participants') }} as s on s.identifier = c.supplier_identifier
)

{{ risk_items_select('items', 'VAT_NON_PAYER', 'contract') }}
