-- Bids (OCDS Bids extension): one per application lot, i.e. one supplier's bid on one lot.
{{ process_incremental_config() }}
select
    cast(al.ocid as varchar) as ocid,
    cast(al.application_lot_id as varchar) as id,
    cast(al.application_id as varchar) as application_id,
    cast(al.lot_id as varchar) as related_lot,
    cast(al.applied_at as timestamptz) as date,
    cast(case when nullif(trim(al.reject_reason), '') is not null then 'disqualified' else 'valid' end as varchar) as status,
    cast(al.reject_reason as varchar) as status_details,
    cast(i.party_id as varchar) as tenderer_id,
    cast(i.name_ru as varchar) as tenderer_name,
    cast(coalesce(al.price, al.offers_amount) as double) as value_amount,
    cast('{{ var("currency") }}' as varchar) as value_currency,
    cast(al.discount_price as double) as discount_price_amount,
    cast(al.offer_count as integer) as offer_count
from {{ ref('int_goszakup__application_lots') }} as al
inner join {{ ref('int_goszakup__identifiers') }} as i on i.identifier = al.supplier_biin
where {{ changed_processes_only('al.ocid') }}
