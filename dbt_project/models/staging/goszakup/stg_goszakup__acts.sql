-- Acceptance acts: typed, renamed; deleted ones (is_deleted = 1 or journal 'D') removed.
select
    a.id as act_id,
    {{ local_ts('a.akt_date') }} as act_at,
    a.number_act as act_number,
    {{ local_ts('a.approve_date') }} as approved_at,
    a.contract_id,
    a.contract_root_id,
    a.status_id as act_status_id,
    a.day_overdue as days_overdue,
    a.sum_fine as fine_amount,
    a.sum_transfer as transfer_amount,
    a.supplier_id as supplier_pid,
    a.customer_id as buyer_pid,
    {{ local_ts('a.date_action') }} as last_updated_at,
    a._dlt_id
from {{ source('goszakup', 'acts') }} as a
where not {{ deleted_condition('acts', 'id', 'a') }}
