-- Treasury payments under a contract: typed, renamed, dates with their zone.
select
    p.id as payment_id,
    p.contract_id,
    p.pay_amount as amount,
    {{ local_ts('p.pay_date') }} as paid_at,
    p.prepay_sum as prepayment_amount,
    p.kato as kato_code,
    p.fin_source as finance_source,
    {{ local_ts('p.last_update_date') }} as last_updated_at,
    p._dlt_id
from {{ source('goszakup', 'treasury_pay') }} as p
