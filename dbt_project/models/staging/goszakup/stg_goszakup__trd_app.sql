-- Applications (bids) of suppliers to an announcement: typed, renamed; deleted ones removed.
select
    a.id as application_id,
    a.buy_id as announcement_id,
    a.supplier_id as supplier_pid,
    a.supplier_bin_iin as supplier_biin,
    {{ local_ts('a.date_apply') }} as applied_at,
    {{ local_ts('a.last_update_date') }} as last_updated_at,
    a.ref_app_status_id as application_status_id,
    s.name_ru as application_status_name_ru,
    a._dlt_id
from {{ source('goszakup', 'trd_app') }} as a
left join {{ ref('stg_goszakup__ref_app_status') }} as s on s.ref_id = a.ref_app_status_id
where not {{ deleted_condition('trd_app', 'id', 'a') }}
