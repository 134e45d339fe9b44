{#- Helpers of the risk marts (models/intermediate/risk, models/risk). Every threshold is a dbt var
    risk_* (dbt_project.yml); docs/risk-indicators.md explains each flag. -#}

{#- What the risk models read: a table a published version holds (the OCDS tables and the risk
    inputs process_context, organisation_register, debarment_register). In a warehouse build it is
    the model (ref); with var risk_input_schema set (publish recompute-flags, pipelines.red_flags)
    it is that schema's table of the same name, so the same models run on a version's own files or
    on any publisher's OCDS. Nothing else may feed a flag: that is what makes a flag recomputable. -#}
{% macro risk_input(name) -%}
    {%- set schema = var('risk_input_schema', none) -%}
    {%- if schema -%}{{ adapter.quote(schema) }}.{{ adapter.quote(name) }}{%- else -%}{{ ref(name) }}{%- endif -%}
{%- endmacro %}

{#- A method filter: `column` in the list, where a null list (YAML ~) means every method, including
    a missing one (Cardinal's default when a method list is not configured). -#}
{% macro risk_method_in(column, values) -%}
    {%- if values is none -%}true{%- else -%}coalesce({{ column }} in ({{ risk_in(values) }}), false){%- endif -%}
{%- endmacro %}

{#- Is `x` beyond a Tukey fence? side 'upper': x >= fence; 'lower': x <= fence. Guard by var
    risk_fence_guard: 'quartile' (ours: x must also lie strictly beyond Q3 / Q1, so a degenerate
    distribution with IQR 0 flags nothing) or 'cardinal' (Cardinal's: the upper fence must be > 0;
    the lower fence and Q1 must be > 0). -#}
{% macro risk_beyond_fence(x, fence, q1, q3, side) -%}
    {%- set guard = var('risk_fence_guard', 'quartile') -%}
    {%- if guard not in ('quartile', 'cardinal') -%}
        {{ exceptions.raise_compiler_error("var risk_fence_guard must be quartile or cardinal, got " ~ guard) }}
    {%- endif -%}
    {%- if side == 'upper' -%}
        ({{ x }} >= {{ fence }} and {% if guard == 'quartile' %}{{ x }} > {{ q3 }}{% else %}{{ fence }} > 0{% endif %})
    {%- else -%}
        ({{ x }} <= {{ fence }} and {% if guard == 'quartile' %}{{ x }} < {{ q1 }}{% else %}{{ q1 }} > 0 and {{ fence }} > 0{% endif %})
    {%- endif -%}
{%- endmacro %}

{#- A Jinja list as the inside of a SQL IN list: ['open', 'selective'] -> 'open', 'selective'.
    An empty list gives NULL (matches nothing). -#}
{% macro risk_in(values) -%}
    {%- if values | length == 0 -%}null{%- else -%}
    {%- for v in values -%}
        {%- if v is string -%}'{{ v | replace("'", "''") }}'{%- else -%}{{ v }}{%- endif -%}
        {%- if not loop.last %}, {% endif -%}
    {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- The p-quantile of a sorted DOUBLE list `xs` of length `n`, by var risk_quantile_method:
    r8 (Hyndman & Fan type 8, median-unbiased; what OCP's Cardinal uses): h = (n + 1/3) p + 1/3;
    r7 (type 7, DuckDB's quantile_cont): h = (n - 1) p + 1.
    Then x[floor(h)] + (h - floor(h)) (x[floor(h) + 1] - x[floor(h)]), clamped to x[1] .. x[n]. -#}
{% macro risk_quantile(xs, n, p) -%}
    {%- set method = var('risk_quantile_method', 'r8') -%}
    {%- if method == 'r8' -%}
        {%- set h = '((' ~ n ~ ' + 1.0 / 3) * ' ~ p ~ ' + 1.0 / 3)' -%}
    {%- elif method == 'r7' -%}
        {%- set h = '((' ~ n ~ ' - 1) * ' ~ p ~ ' + 1)' -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("var risk_quantile_method must be r8 or r7, got " ~ method) }}
    {%- endif -%}
    (case
        when coalesce({{ n }}, 0) = 0 then null
        when {{ h }} < 1 then {{ xs }}[1]
        when {{ h }} >= {{ n }} then {{ xs }}[{{ n }}]
        else {{ xs }}[cast(floor({{ h }}) as bigint)]
            + ({{ h }} - floor({{ h }}))
            * ({{ xs }}[cast(floor({{ h }}) as bigint) + 1] - {{ xs }}[cast(floor({{ h }}) as bigint)])
    end)
{%- endmacro %}

{#- Name of the quantile definition in force, for risk_meta. -#}
{% macro risk_quantile_name() -%}
    {%- if var('risk_quantile_method', 'r8') == 'r7' -%}R-7 (Hyndman-Fan type 7, DuckDB quantile_cont){%- else -%}R-8 (Hyndman-Fan type 8, as Cardinal){%- endif -%}
{%- endmacro %}

{#- A TIMESTAMPTZ as RFC 3339 text in UTC (evidence JSON must not depend on the session time zone). -#}
{% macro risk_ts(ts) -%}
    strftime(timezone('UTC', {{ ts }}), '%Y-%m-%dT%H:%M:%SZ')
{%- endmacro %}

{#- A TIMESTAMPTZ as the naive local time of the source (calendar arithmetic like the source's). -#}
{% macro risk_local(ts) -%}
    timezone('{{ var("source_timezone") }}', {{ ts }})
{%- endmacro %}

{#- Days between two TIMESTAMPTZ (fractional, exact). -#}
{% macro risk_days(from_ts, to_ts) -%}
    ((epoch({{ to_ts }}) - epoch({{ from_ts }})) / 86400.0)
{%- endmacro %}

{#- An exact sum of money (DECIMAL: the same result whatever the order of addition, so rebuilds are
    byte-identical), as DOUBLE. -#}
{% macro risk_money_sum(expr) -%}
    cast(sum(cast({{ expr }} as decimal(18, 2))) as double)
{%- endmacro %}

{#- The three states of a flag: not_computable (data missing), flagged, not_flagged. -#}
{% macro risk_status(computable, flagged) -%}
    (case
        when not coalesce({{ computable }}, false) then 'not_computable'
        when coalesce({{ flagged }}, false) then 'flagged'
        else 'not_flagged'
    end)
{%- endmacro %}

{#- An empty id list. -#}
{% macro risk_no_ids() -%}
    cast([] as varchar[])
{%- endmacro %}

{#- Sorted distinct non-null ids as VARCHAR[] (an aggregate). -#}
{% macro risk_id_list(expr) -%}
    coalesce(list_sort(list(distinct cast({{ expr }} as varchar)) filter (where {{ expr }} is not null)), {{ risk_no_ids() }})
{%- endmacro %}

{#- R003's minimum tender period (whole days) for the trade method in `column`: the method's entry
    of var risk_r003_min_days_by_method, else var risk_r003_min_days. -#}
{% macro risk_r003_threshold(column) -%}
    {%- set by_method = var('risk_r003_min_days_by_method', {}) or {} -%}
    {%- if by_method -%}
    (case cast({{ column }} as varchar)
        {%- for k, v in by_method.items() %} when '{{ k }}' then {{ v }}{% endfor %}
        else {{ var('risk_r003_min_days') }} end)
    {%- else -%}
    {{ var('risk_r003_min_days') }}
    {%- endif -%}
{%- endmacro %}

{#- Final projection of a flag item model: one row per measured object with the uniform columns.
    `items` must hold ocid, object_id, computable, flagged, value, threshold, severity, lot_ids,
    bid_ids, contract_ids, party_ids, detail (JSON), note. -#}
{% macro risk_items_select(items, flag_code, object_type) -%}
select
    cast(ocid as varchar) as ocid,
    cast('{{ flag_code }}' as varchar) as flag_code,
    cast('{{ object_type }}' as varchar) as object_type,
    cast(object_id as varchar) as object_id,
    cast({{ risk_status('computable', 'flagged') }} as varchar) as status,
    cast(case when coalesce(computable, false) then value end as double) as value,
    cast(threshold as double) as threshold,
    cast(case when coalesce(computable, false) then severity end as double) as severity,
    cast(coalesce(lot_ids, {{ risk_no_ids() }}) as varchar[]) as lot_ids,
    cast(coalesce(bid_ids, {{ risk_no_ids() }}) as varchar[]) as bid_ids,
    cast(coalesce(contract_ids, {{ risk_no_ids() }}) as varchar[]) as contract_ids,
    cast(coalesce(party_ids, {{ risk_no_ids() }}) as varchar[]) as party_ids,
    cast(detail as json) as detail,
    cast(note as varchar) as note
from {{ items }}
{%- endmacro %}

{#- Final projection of a native organisation flag model (see organisation_flags). `orgs` holds
    party_id, computable, flagged, value, threshold, ocids, contract_ids, bid_ids, party_ids,
    evidence (JSON), note. -#}
{% macro risk_org_select(orgs, flag_code, role) -%}
select
    cast(party_id as varchar) as party_id,
    cast('{{ role }}' as varchar) as role,
    cast('{{ flag_code }}' as varchar) as flag_code,
    cast({{ risk_status('computable', 'flagged') }} as varchar) as status,
    cast(case when coalesce(computable, false) then value end as double) as value,
    cast(threshold as double) as threshold,
    cast(case when coalesce(flagged, false) and coalesce(computable, false) then coalesce(ocids, {{ risk_no_ids() }}) else {{ risk_no_ids() }} end as varchar[]) as ocids,
    cast(case when coalesce(flagged, false) and coalesce(computable, false) then coalesce(contract_ids, {{ risk_no_ids() }}) else {{ risk_no_ids() }} end as varchar[]) as contract_ids,
    cast(case when coalesce(flagged, false) and coalesce(computable, false) then coalesce(bid_ids, {{ risk_no_ids() }}) else {{ risk_no_ids() }} end as varchar[]) as bid_ids,
    cast(case when coalesce(flagged, false) and coalesce(computable, false) then coalesce(party_ids, {{ risk_no_ids() }}) else {{ risk_no_ids() }} end as varchar[]) as party_ids,
    cast(evidence as json) as evidence,
    cast(note as varchar) as note
from {{ orgs }}
where party_id is not null
{%- endmacro %}

{#- The parameters (var name -> value in force) of each flag, for risk.flag_catalogue. -#}
{% macro risk_flag_parameters() -%}
    {%- set p = {
        'R003': ['risk_r003_min_days', 'risk_r003_min_days_by_method', 'risk_open_methods', 'risk_r003_deadline'],
        'R018': ['risk_competitive_methods', 'risk_r018_awarded_only'],
        'R024': ['risk_bid_flag_methods', 'risk_no_price_comparison_method_details', 'risk_iqr_multiplier', 'risk_quantile_method', 'risk_fence_guard'],
        'R025': ['risk_r025_percentile', 'risk_iqr_multiplier', 'risk_quantile_method', 'risk_fence_guard'],
        'R028': ['risk_bid_flag_methods', 'risk_no_price_comparison_method_details'],
        'R030': ['risk_bid_flag_methods', 'risk_r003_deadline'],
        'R035': ['risk_bid_flag_methods', 'risk_r035_min_disqualified'],
        'R036': ['risk_bid_flag_methods', 'risk_no_price_comparison_method_details', 'risk_r036_without_valid_bid', 'risk_r036_tie'],
        'R038': ['risk_r038_min_submitted_bids', 'risk_r038_min_processes', 'risk_r038_buyer_minimum_of', 'risk_iqr_multiplier', 'risk_quantile_method', 'risk_fence_guard'],
        'R048': ['risk_r048_digits', 'risk_r048_min_processes', 'risk_iqr_multiplier', 'risk_quantile_method', 'risk_fence_guard'],
        'R055': ['source_timezone', 'risk_direct_methods', 'risk_split_threshold_kzt', 'risk_split_window_days', 'risk_split_min_contracts'],
        'R058': ['risk_bid_flag_methods', 'risk_no_price_comparison_method_details', 'risk_iqr_multiplier', 'risk_quantile_method', 'risk_fence_guard'],
        'DEBARRED_WINNER': [],
        'NEW_COMPANY': ['risk_new_company_days'],
        'NON_OPEN': ['risk_non_open_methods'],
        'DIRECT_AFTER_FAILED': ['risk_direct_methods', 'risk_after_failed_trade_methods', 'risk_failed_direct_min_awards'],
        'METHOD_MISMATCH': ['risk_mismatch_exempt_trade_methods'],
        'BUYER_DEPENDENCE': ['source_timezone', 'risk_dependence_min_share', 'risk_dependence_min_contracts'],
        'DECISION_PERIOD': ['risk_competitive_methods', 'risk_decision_min_days', 'risk_decision_max_days'],
        'OVERSTATED_VALUE': ['risk_overstated_max_ratio'],
        'MANY_AMENDMENTS': ['risk_many_amendments'],
        'FREQUENT_PRICE_CHANGES': ['source_timezone', 'risk_price_changes_window_days', 'risk_price_changes_min'],
        'AMENDMENT_VALUE_INCREASE': ['risk_amendment_increase_min_ratio'],
        'MANY_PRODUCT_CODES': ['source_timezone', 'risk_product_codes_min', 'risk_product_code_length'],
        'UNIT_PRICE_OUTLIER': ['risk_unit_price_min_items', 'risk_iqr_multiplier', 'risk_quantile_method', 'risk_fence_guard'],
        'BENFORD': ['risk_benford_min_contracts', 'risk_benford_max_mad'],
        'VAT_NON_PAYER': ['risk_vat_tolerance'],
        'BID_ROTATION': ['risk_competitive_methods', 'risk_rotation_min_processes', 'risk_rotation_min_winners'],
    } -%}
    {%- set out = {} -%}
    {%- for code, names in p.items() -%}
        {%- set values = {} -%}
        {%- for n in names -%}{%- do values.update({n: var(n)}) -%}{%- endfor -%}
        {%- do out.update({code: values}) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#- Generic test: every non-null value of the column lies in [min_value, max_value]. -#}
{% test risk_between(model, column_name, min_value, max_value) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{% endtest %}


{#- Composite risk score per organisation of one role (buyer_scores, supplier_scores): score = the
    mean of its processes' composite scores (risk.process_scores, exact decimal mean), as GTI's
    organisation-level CRI; organisation_score = the share of the organisation-grain flags
    (risk.organisation_flags of that role) that are flagged among those computable. `members_sql`
    selects (ocid, party_id): the processes that belong to each organisation. -#}
{% macro risk_organisation_scores(role, members_sql) -%}
with members as (
    {{ members_sql }}
),

processes as (
    select
        m.party_id,
        count(*) as processes,
        count(s.score) as scored_processes,
        count(*) filter (where s.flagged_components > 0) as flagged_processes,
        sum(cast(s.score as decimal(18, 12))) / nullif(count(s.score), 0) as score
    from members as m
    inner join {{ ref('process_scores') }} as s on s.ocid = m.ocid
    group by m.party_id
),

organisation as (
    select
        party_id,
        count(*) filter (where status <> 'not_computable') as computable_flags,
        count(*) filter (where status = 'flagged') as flagged_flags,
        list_sort(list(flag_code) filter (where status = 'flagged')) as flagged_codes
    from {{ ref('organisation_flags') }}
    where role = '{{ role }}'
    group by party_id
),

parties as (
    select party_id from processes
    union
    select party_id from organisation
)

select
    cast(p.party_id as varchar) as {{ role }}_id,
    cast(i.name_ru as varchar) as {{ role }}_name,
    cast(coalesce(s.processes, 0) as integer) as processes,
    cast(coalesce(s.scored_processes, 0) as integer) as scored_processes,
    cast(coalesce(s.flagged_processes, 0) as integer) as flagged_processes,
    cast(s.score as double) as score,
    cast(coalesce(o.computable_flags, 0) as integer) as organisation_flags_computable,
    cast(coalesce(o.flagged_flags, 0) as integer) as organisation_flags_flagged,
    cast(case when o.computable_flags > 0 then o.flagged_flags / o.computable_flags end as double) as organisation_score,
    cast(coalesce(o.flagged_codes, {{ risk_no_ids() }}) as varchar[]) as flagged_codes
from parties as p
left join processes as s on s.party_id = p.party_id
left join organisation as o on o.party_id = p.party_id
left join {{ ref('int_goszakup__identifiers') }} as i on i.party_id = p.party_id
{%- endmacro %}

{#- R038, buyer side: is the buyer counted? At least var risk_r038_min_processes processes with bids
    (var risk_r038_buyer_minimum_of: processes, ours) or submitted bids (bids: what Cardinal's
    minimum_contracting_processes compares in effect, the ratio's denominator). -#}
{% macro risk_r038_buyer_counted(alias) -%}
    {%- set of = var('risk_r038_buyer_minimum_of', 'processes') -%}
    {%- if of == 'processes' -%}({{ alias }}.processes >= {{ var('risk_r038_min_processes') }})
    {%- elif of == 'bids' -%}({{ alias }}.submitted_bids >= {{ var('risk_r038_min_processes') }})
    {%- else -%}{{ exceptions.raise_compiler_error("var risk_r038_buyer_minimum_of must be processes or bids, got " ~ of) }}
    {%- endif -%}
{%- endmacro %}
