-- Awards: goszakup publishes no award records, so each contract is derived to have one award
-- (same id as the contract), dated by the announcement's results publication.
{{ process_incremental_config() }}
with lots as (
    select ocds_contract_id, list_sort(list(distinct cast(lot_id as varchar))) as related_lots
    from {{ ref('int_goszakup__contract_units') }}
    where lot_id is not null and amendment_contract_id is null and {{ changed_processes_only('ocid') }}
    group by ocds_contract_id
)

select
    cast(c.ocid as varchar) as ocid,
    cast(c.contract_id as varchar) as id,
    cast(case when c.terminated_at is not null and c.signed_at is null then 'cancelled' else 'active' end as varchar) as status,
    cast(a.results_published_at as timestamptz) as date,
    cast(c.amount_gross as double) as value_amount,
    cast(c.amount_net as double) as value_amount_net,
    cast(c.currency as varchar) as value_currency,
    cast(coalesce(l.related_lots, []) as varchar[]) as related_lots
from {{ ref('int_goszakup__contracts') }} as c
inner join {{ ref('int_goszakup__announcements') }} as a on a.announcement_id = c.announcement_id
left join lots as l on l.ocds_contract_id = c.contract_id
where not c.is_amendment
and {{ changed_processes_only('c.ocid') }}
