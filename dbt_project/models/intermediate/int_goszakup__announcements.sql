-- Announcements that passed every quarantine rule, with their ocid and OCDS codes.
{{ process_incremental_config('int_goszakup__changed_processes') }}
with clean as (
    {{ without_quarantined(ref('stg_goszakup__trd_buy'), ref('quarantine_trd_buy')) }}
)

select
    {{ ocid('b.announcement_number') }} as ocid,
    b.*,
    m.procurement_method,
    coalesce(b.trade_method_name_ru, m.local_name) as procurement_method_details,
    s.tender_status,
    coalesce(b.buy_status_name_ru, s.local_name) as tender_status_details,
    c.main_procurement_category
from clean as b
left join {{ ref('trade_method_ocds') }} as m on m.trade_method_id = b.trade_method_id
left join {{ ref('buy_status_ocds') }} as s on s.buy_status_id = b.buy_status_id
left join {{ ref('subject_type_ocds') }} as c on c.subject_type_id = b.subject_type_id
where {{ changed_processes_only(ocid('b.announcement_number'), 'int_goszakup__changed_processes') }}
