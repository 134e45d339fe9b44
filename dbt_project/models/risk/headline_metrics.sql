-- Headline metrics per publication year, nationally (level 'national'), per region ('region') and
-- per buyer ('buyer'), over processes that were not cancelled. Counts and sums are kept next to
-- each share so any other roll-up can be computed exactly. Money: net of VAT, exact sums.
-- single-source = var risk_direct_methods; bidders per lot over lots of competitive processes
-- (var risk_competitive_methods); failed = competitive processes with tender status unsuccessful;
-- savings = expected value of awarded lots - value awarded on them.
with processes as (
    select * from {{ ref('int_risk__processes') }} where not is_cancelled
),

contract_values as (
    select ocid, sum(cast(value_net as decimal(18, 2))) as contract_value
    from {{ ref('int_risk__contracts') }}
    group by ocid
),

lots as (
    select
        ocid,
        count(*) as lots,
        sum(tenderers) as bidders,
        sum(cast(planned_amount as decimal(18, 2))) filter (
            where is_awarded and awarded_value_net is not null and items_without_value = 0 and planned_amount is not null
        ) as planned_awarded,
        sum(cast(awarded_value_net as decimal(18, 2))) filter (
            where is_awarded and awarded_value_net is not null and items_without_value = 0 and planned_amount is not null
        ) as awarded
    from {{ ref('int_risk__lots') }}
    group by ocid
),

per_process as (
    select
        p.publication_year as year,
        p.region_code,
        p.region_name,
        p.buyer_id,
        p.buyer_name,
        p.is_direct,
        p.is_competitive,
        p.tender_status = 'unsuccessful' as is_failed,
        c.contract_value,
        case when p.is_competitive then l.lots end as competitive_lots,
        case when p.is_competitive then l.bidders end as competitive_bidders,
        l.planned_awarded,
        l.awarded
    from processes as p
    left join contract_values as c on c.ocid = p.ocid
    left join lots as l on l.ocid = p.ocid
),

metrics as (
    select
        case when grouping(region_code) = 1 then 'national' when grouping(buyer_id) = 1 then 'region' else 'buyer' end
            as level,
        year,
        region_code,
        case when grouping(region_code) = 0 then min(region_name) end as region,
        buyer_id,
        case when grouping(buyer_id) = 0 then min(buyer_name) end as buyer_name,
        count(*) as processes,
        count(*) filter (where is_direct) as direct_processes,
        coalesce(sum(contract_value), 0) as contract_value,
        coalesce(sum(contract_value) filter (where is_direct), 0) as direct_contract_value,
        coalesce(sum(competitive_lots), 0) as competitive_lots,
        coalesce(sum(competitive_bidders), 0) as competitive_lot_bidders,
        count(*) filter (where is_competitive) as competitive_processes,
        count(*) filter (where is_competitive and is_failed) as failed_processes,
        coalesce(sum(planned_awarded), 0) as planned_amount,
        coalesce(sum(awarded), 0) as awarded_amount
    from per_process
    group by grouping sets ((year), (year, region_code), (year, region_code, buyer_id))
)

select
    cast(level as varchar) as level,
    cast(year as integer) as year,
    cast(region_code as varchar) as region_code,
    cast(region as varchar) as region,
    cast(buyer_id as varchar) as buyer_id,
    cast(buyer_name as varchar) as buyer_name,
    cast(processes as bigint) as processes,
    cast(direct_processes as bigint) as direct_processes,
    cast(direct_processes / processes as double) as single_source_share_count,
    cast(contract_value as double) as contract_value,
    cast(direct_contract_value as double) as direct_contract_value,
    cast(case when contract_value > 0 then direct_contract_value / contract_value end as double)
        as single_source_share_value,
    cast(competitive_lots as bigint) as competitive_lots,
    cast(competitive_lot_bidders as bigint) as competitive_lot_bidders,
    cast(case when competitive_lots > 0 then competitive_lot_bidders / competitive_lots end as double)
        as avg_bidders_per_lot,
    cast(competitive_processes as bigint) as competitive_processes,
    cast(failed_processes as bigint) as failed_processes,
    cast(case when competitive_processes > 0 then failed_processes / competitive_processes end as double)
        as failed_tender_share,
    cast(planned_amount as double) as planned_amount,
    cast(awarded_amount as double) as awarded_amount,
    cast(planned_amount - awarded_amount as double) as savings,
    cast(case when planned_amount > 0 then (planned_amount - awarded_amount) / planned_amount end as double)
        as savings_share
from metrics
