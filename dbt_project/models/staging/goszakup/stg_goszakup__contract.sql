-- Contracts and their amendments: typed, renamed, codes decoded; deleted ones removed.
-- VAT: contract_sum is without VAT, contract_sum_wnds with VAT; both kept.
select
    c.id as contract_id,
    c.parent_id as parent_contract_id,
    c.root_id as root_contract_id,
    -- an amendment points at an earlier version of the contract
    coalesce(c.parent_id, 0) not in (0, c.id) as is_amendment,
    -- the original contract an amendment amends (root_id, else parent_id)
    case when coalesce(c.parent_id, 0) not in (0, c.id)
        then coalesce(nullif(c.root_id, c.id), c.parent_id) end as amended_contract_id,
    c.trd_buy_id as announcement_id,
    c.trd_buy_number_anno as announcement_number,
    c.ref_contract_status_id as contract_status_id,
    cs.name_ru as contract_status_name_ru,
    {{ local_ts('c.crdate') }} as created_at,
    {{ local_ts('c.last_update_date') }} as last_updated_at,
    c.supplier_id as supplier_pid,
    c.supplier_biin,
    c.supplier_legal_address,
    c.contract_number,
    c.contract_number_sys as contract_number_system,
    c.customer_id as buyer_pid,
    c.customer_bin as buyer_bin,
    c.customer_legal_address as buyer_legal_address,
    c.ref_subject_type_id as subject_type_id,
    st.name_ru as subject_type_name_ru,
    c.fin_year as financial_year,
    c.ref_contract_agr_form_id as agreement_form_id,
    c.ref_finsource_id as finance_source_id,
    fs.name_ru as finance_source_name_ru,
    coalesce(nullif(trim(c.ref_currency_code), ''), '{{ var("currency") }}') as currency,
    c.exchange_rate,
    c.contract_sum as amount_net,
    c.contract_sum_wnds as amount_gross,
    {{ local_ts('c.sign_date') }} as signed_at,
    {{ local_ts('c.ec_end_date') }} as end_at,
    {{ local_ts('c.plan_exec_date') }} as planned_execution_at,
    {{ local_ts('c.fakt_exec_date') }} as actual_execution_at,
    c.fakt_sum as executed_amount_net,
    c.fakt_sum_wnds as executed_amount_gross,
    {{ local_ts('c.contract_end_date') }} as terminated_at,
    c.ref_contract_cancel_id as cancel_reason_id,
    c.ref_contract_type_id as contract_type_id,
    ct.name_ru as contract_type_name_ru,
    c.description_ru,
    c.fakt_trade_methods_id as trade_method_id,
    {{ local_ts('c.index_date') }} as indexed_at,
    c.system_id as source_system_id,
    c._dlt_id
from {{ source('goszakup', 'contract') }} as c
left join {{ ref('stg_goszakup__ref_contract_status') }} as cs on cs.ref_id = c.ref_contract_status_id
left join {{ ref('stg_goszakup__ref_subject_type') }} as st on st.ref_id = c.ref_subject_type_id
left join {{ ref('stg_goszakup__ref_finsource') }} as fs on fs.ref_id = c.ref_finsource_id
left join {{ ref('stg_goszakup__ref_contract_type') }} as ct on ct.ref_id = c.ref_contract_type_id
where not {{ deleted_condition('contract', 'id', 'c') }}
