-- Lots: typed, renamed, codes decoded; deleted lots (is_deleted = 1 or journal 'D') removed.
select
    l.id as lot_id,
    l.lot_number,
    l.ref_lot_status_id as lot_status_id,
    ls.name_ru as lot_status_name_ru,
    {{ local_ts('l.last_update_date') }} as last_updated_at,
    l.union_lots as union_lots,
    l.count as quantity,
    l.amount,
    l.name_ru as title_ru,
    l.name_kz as title_kk,
    l.description_ru,
    l.customer_id as buyer_pid,
    l.customer_bin as buyer_bin,
    l.trd_buy_number_anno as announcement_number,
    l.trd_buy_id as announcement_id,
    l.dumping = 1 as is_dumping,
    l.ref_trade_methods_id as planned_trade_method_id,
    l.ref_buy_trade_methods_id as trade_method_id,
    tm.name_ru as trade_method_name_ru,
    l.psd_sign as design_estimate_sign,
    l.consulting_services = 1 as is_consulting_services,
    cast(l.point_list as bigint[]) as plan_point_ids,
    cast(l.enstru_list as varchar[]) as enstru_codes,
    cast(l.pln_point_kato_list as varchar[]) as kato_codes,
    l.singl_org_sign = 1 as is_single_organizer,
    {{ local_ts('l.index_date') }} as indexed_at,
    l.system_id as source_system_id,
    l._dlt_id
from {{ source('goszakup', 'lots') }} as l
left join {{ ref('stg_goszakup__ref_lots_status') }} as ls on ls.ref_id = l.ref_lot_status_id
left join {{ ref('stg_goszakup__ref_trade_methods') }} as tm on tm.ref_id = l.ref_buy_trade_methods_id
where not {{ deleted_condition('lots', 'id', 'l') }}
