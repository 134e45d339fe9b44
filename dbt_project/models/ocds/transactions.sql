-- Treasury payments under each contract (OCDS implementation transactions).
{{ process_incremental_config() }}
select
    cast(p.ocid as varchar) as ocid,
    cast(p.ocds_contract_id as varchar) as contract_id,
    cast(p.payment_id as varchar) as id,
    cast(p.paid_at as timestamptz) as date,
    cast(p.amount as double) as value_amount,
    cast(p.currency as varchar) as value_currency,
    cast(p.prepayment_amount as double) as prepayment_amount,
    cast(p.finance_source as varchar) as source,
    cast(payer.party_id as varchar) as payer_id,
    cast(payer.name_ru as varchar) as payer_name,
    cast(payee.party_id as varchar) as payee_id,
    cast(payee.name_ru as varchar) as payee_name
from {{ ref('int_goszakup__treasury_payments') }} as p
left join {{ ref('int_goszakup__identifiers') }} as payer on payer.identifier = p.buyer_bin
left join {{ ref('int_goszakup__identifiers') }} as payee on payee.identifier = p.supplier_biin
where {{ changed_processes_only('p.ocid') }}
