-- Quartiles and Tukey fences (Q1 - k IQR, Q3 + k IQR; k = var risk_iqr_multiplier) of every
-- distribution a fence-based flag compares against, by var risk_quantile_method (R-8 as Cardinal,
-- or R-7). One row per (flag, metric, group); risk.risk_meta publishes it.
with inputs as (
    select 'R024' as flag_code, 'bid_gap' as metric, '' as group_key, gap as x
    from {{ ref('int_risk__lot_bid_gaps') }}
    union all
    select 'R058', 'bid_gap', '', gap from {{ ref('int_risk__lot_bid_gaps') }}
    union all
    select 'R025', 'valid_bids', '', valid_decided_bids from {{ ref('int_risk__tenderer_stats') }}
    where valid_decided_bids > 0
    union all
    select 'R025', 'win_ratio', '', winning_bids / valid_decided_bids from {{ ref('int_risk__tenderer_stats') }}
    where valid_decided_bids > 0
    union all
    select 'R038', 'buyer_disqualified_ratio', '', disqualified_bids / submitted_bids
    from {{ ref('int_risk__buyer_bid_stats') }} as s
    where {{ risk_r038_buyer_counted('s') }} and submitted_bids > 0
    union all
    select 'R038', 'tenderer_disqualified_ratio', '', disqualified_bids / submitted_bids
    from {{ ref('int_risk__tenderer_stats') }}
    where submitted_bids >= {{ var('risk_r038_min_submitted_bids') }}
    union all
    select 'R048', 'variety', '', variety from {{ ref('int_risk__supplier_variety') }}
    where processes >= {{ var('risk_r048_min_processes') }}
    union all
    select 'UNIT_PRICE_OUTLIER', 'unit_price_net', classification_id || ' | ' || region_code, unit_price_net
    from {{ ref('int_risk__contract_items') }}
    where classification_id is not null and region_code is not null and unit_price_net > 0
),

lists as (
    select flag_code, metric, group_key, list_sort(list(cast(x as double))) as xs, count(*) as n
    from inputs
    where x is not null
    group by flag_code, metric, group_key
),

quartiles as (
    select
        flag_code,
        metric,
        group_key,
        n,
        {{ risk_quantile('xs', 'n', 0.25) }} as q1,
        {{ risk_quantile('xs', 'n', 0.5) }} as median,
        {{ risk_quantile('xs', 'n', 0.75) }} as q3,
        case when flag_code = 'R025' and metric = 'valid_bids'
            then {{ risk_quantile('xs', 'n', var('risk_r025_percentile')) }} end as percentile_value
    from lists
    where not (flag_code = 'UNIT_PRICE_OUTLIER' and n < {{ var('risk_unit_price_min_items') }})
)

select
    flag_code,
    metric,
    group_key,
    n,
    q1,
    median,
    q3,
    q3 - q1 as iqr,
    q1 - {{ var('risk_iqr_multiplier') }} * (q3 - q1) as lower_fence,
    q3 + {{ var('risk_iqr_multiplier') }} * (q3 - q1) as upper_fence,
    case when flag_code = 'R025' and metric = 'valid_bids' then {{ var('risk_r025_percentile') }} end as percentile,
    percentile_value
from quartiles
