-- The quartiles and fences every fence-based flag of this build compared against (one row per
-- flag, metric and group), with the quantile definition and IQR multiplier in force. A published
-- version keeps the fences of its build.
select
    cast(flag_code as varchar) as flag_code,
    cast(metric as varchar) as metric,
    cast(group_key as varchar) as group_key,
    cast(n as bigint) as observations,
    cast(q1 as double) as q1,
    cast(median as double) as median,
    cast(q3 as double) as q3,
    cast(iqr as double) as iqr,
    cast(lower_fence as double) as lower_fence,
    cast(upper_fence as double) as upper_fence,
    cast(percentile as double) as percentile,
    cast(percentile_value as double) as percentile_value,
    cast('{{ risk_quantile_name() }}' as varchar) as quantile_method,
    cast({{ var('risk_iqr_multiplier') }} as double) as iqr_multiplier
from {{ ref('int_risk__fences') }}
