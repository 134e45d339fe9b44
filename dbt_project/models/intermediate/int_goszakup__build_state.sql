-- Where the last complete build stands: the newest dlt load it saw (raw rows loaded after it are
-- changes for the next build), the newest load of the build before (the raw rows this build took
-- in: the checks' changed slice) and the code tables' fingerprint. Built last; a failed build
-- leaves the older state, so the next build redoes everything since then.
{{ config(materialized='table') }}
{%- set raw = source('goszakup', 'trd_buy') %}
{%- set before = previous_relation('int_goszakup__build_state') %}
{%- set loads = adapter.get_relation(database=raw.database, schema=raw.schema, identifier='_dlt_loads') if execute else none %}
-- depends_on: {{ ref('int_goszakup__identifiers_built') }}
select
    {%- if loads is not none %}
    cast((select max(load_id) from {{ loads }}) as varchar) as built_load_id,
    {%- else %}
    -- a raw layer not written by dlt (tests make one from the world): the newest row's load
    cast((select max(load_id) from (
        {%- for t in ['trd_buy', 'lots', 'trd_app', 'app_lots', 'offers', 'contract', 'contract_units',
                      'treasury_pay', 'acts', 'plans', 'plans_kato', 'subject'] %}
        select max(_dlt_load_id) as load_id from {{ source('goszakup', t) }}{{ ' union all' if not loop.last }}
        {%- endfor %}
    )) as varchar) as built_load_id,
    {%- endif %}
    {%- if before is not none %}
    cast((select max(built_load_id) from {{ before }}) as varchar) as previous_load_id,
    {%- else %}
    cast(null as varchar) as previous_load_id,
    {%- endif %}
    {{ code_tables_fingerprint() }} as refs_fingerprint
