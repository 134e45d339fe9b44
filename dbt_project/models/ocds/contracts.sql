-- Contracts as signed (amendments are in the amendments table).
{{ process_incremental_config() }}
select
    cast(c.ocid as varchar) as ocid,
    cast(c.contract_id as varchar) as id,
    cast(c.contract_id as varchar) as award_id,
    cast(c.contract_number as varchar) as title,
    cast(c.description_ru as varchar) as description,
    cast(s.contract_status as varchar) as status,
    cast(c.contract_status_name_ru as varchar) as status_details,
    cast(c.signed_at as timestamptz) as date_signed,
    cast(c.signed_at as timestamptz) as period_start_date,
    cast(c.end_at as timestamptz) as period_end_date,
    cast(c.amount_gross as double) as value_amount,
    cast(c.amount_net as double) as value_amount_net,
    cast(c.currency as varchar) as value_currency,
    cast(c.exchange_rate as double) as exchange_rate,
    cast(c.executed_amount_gross as double) as executed_amount,
    cast(c.executed_amount_net as double) as executed_amount_net,
    cast(c.contract_type_name_ru as varchar) as contract_type,
    cast(c.finance_source_name_ru as varchar) as finance_source,
    cast(c.financial_year as integer) as financial_year,
    cast(c.buyer_bin as varchar) as buyer_identifier,
    cast(c.supplier_biin as varchar) as supplier_identifier
from {{ ref('int_goszakup__contracts') }} as c
left join {{ ref('contract_status_ocds') }} as s on s.contract_status_id = c.contract_status_id
where not c.is_amendment
and {{ changed_processes_only('c.ocid') }}
