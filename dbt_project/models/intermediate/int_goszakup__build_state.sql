-- Where the last complete build stands: the newest dlt load it saw (raw rows loaded after it are
-- changes for the next build), the newest load of the build before (the raw rows this build took
-- in: the checks' changed slice) and the code tables' fingerprint. Built last; a failed build
-- leaves the older state, so the next build redoes everything since then.
{{ config(materialized='table') }}
{%- set raw = source('goszakup', 'trd_buy') %}
{%- set before = previous_relation('int_goszakup__build_state') %}
{%- set loads = api.Relation.create(database=raw.database, schema=raw.schema, identifier='_dlt_loads') %}
-- depends_on: {{ ref('int_goszakup__identifiers_built') }}
select
    cast((select max(load_id) from {{ loads }}) as varchar) as built_load_id,
    {%- if before is not none %}
    cast((select max(built_load_id) from {{ before }}) as varchar) as previous_load_id,
    {%- else %}
    cast(null as varchar) as previous_load_id,
    {%- endif %}
    {{ code_tables_fingerprint() }} as refs_fingerprint
