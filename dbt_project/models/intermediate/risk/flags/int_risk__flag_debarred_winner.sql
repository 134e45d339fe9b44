-- DEBARRED_WINNER: the supplier was on the register of unreliable suppliers (RNU) when the
-- contract was signed (OCP red flags R045/R046, debarred supplier). Item = an original contract of
-- an active award: flagged when an RNU entry of the supplier's BIN/IIN has start <= signing date
-- <= end (no end: still in force). Date = signing date, else award date. Not computable without
-- that date or the supplier's BIN/IIN.
with contracts as (
    select * from {{ ref('int_risk__contracts') }}
),

hits as (
    select
        c.contract_id,
        {{ risk_id_list('d.rnu_id') }} as rnu_ids,
        min(d.start_at) as start_at,
        max(d.end_at) as end_at
    from contracts as c
    inner join {{ ref('int_risk__debarments') }} as d
        on d.identifier = c.supplier_identifier
        and c.contract_date >= d.start_at
        and (d.end_at is null or c.contract_date <= d.end_at)
    group by c.contract_id
),

items as (
    select
        c.ocid,
        c.contract_id as object_id,
        c.contract_date is not null and c.supplier_identifier is not null as computable,
        h.contract_id is not null as flagged,
        case when h.contract_id is not null then 1 else 0 end as value,
        1 as threshold,
        case when h.contract_id is not null then 1 else 0 end as severity,
        c.lot_ids,
        null as bid_ids,
        [c.contract_id] as contract_ids,
        c.supplier_ids as party_ids,
        json_object(
            'contract_id', c.contract_id,
            'supplier', c.supplier_identifier,
            'signed', {{ risk_ts('c.contract_date') }},
            'rnu_ids', coalesce(h.rnu_ids, []),
            'rnu_start', {{ risk_ts('h.start_at') }},
            'rnu_end', {{ risk_ts('h.end_at') }}
        ) as detail,
        case
            when c.contract_date is null then 'no signing or award date'
            when c.supplier_identifier is null then 'no supplier BIN/IIN'
        end as note
    from contracts as c
    left join hits as h on h.contract_id = c.contract_id
)

{{ risk_items_select('items', 'DEBARRED_WINNER', 'contract') }}
