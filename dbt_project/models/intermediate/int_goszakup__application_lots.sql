-- Application lots (one bid of one supplier on one lot) that passed every quarantine rule, with the
-- application's supplier and the sum of their offers.
{{ process_incremental_config('int_goszakup__changed_processes') }}
with clean as (
    {{ without_quarantined(ref('stg_goszakup__app_lots'), ref('quarantine_app_lots')) }}
),

offers as (
    select application_lot_id, count(*) as offer_count, sum(amount) as offers_amount
    from ({{ without_quarantined(ref('stg_goszakup__offers'), ref('quarantine_offers')) }})
    group by application_lot_id
)

select
    a.ocid,
    a.supplier_biin,
    a.supplier_pid,
    a.applied_at,
    al.*,
    coalesce(o.offer_count, 0) as offer_count,
    o.offers_amount
from clean as al
inner join {{ ref('int_goszakup__applications') }} as a on a.application_id = al.application_id
left join offers as o on o.application_lot_id = al.application_lot_id
where {{ changed_processes_only('a.ocid', 'int_goszakup__changed_processes') }}
