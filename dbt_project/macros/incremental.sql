{#- Incremental builds keyed by contracting process (ocid).

    A daily load touches well under 1 % of the processes. The process-keyed models are
    `incremental` with the `append` strategy: on an incremental run a pre-hook deletes the rows of
    every changed ocid (so deleted objects and processes disappear), then the model inserts the
    rows of those ocids again from the current upstream. The changed ocids are computed by
    int_goszakup__changed_processes (raw rows dlt loaded since the last build, journal deletions,
    old and new owners of each changed object) and int_goszakup__changed_releases (plus the
    processes naming a party whose identifier row changed). `dbt build --full-refresh`
    (`python -m pipelines run --full`) rebuilds everything. -#}

{#- Config of a process-keyed incremental model: delete the changed ocids' rows, then append. -#}
{% macro process_incremental_config(changed_model='int_goszakup__changed_releases') -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_processes('" ~ changed_model ~ "') }}",
    ) }}
{%- endmacro %}

{#- Pre-hook: remove the rows of every changed ocid from the existing table. -#}
{% macro delete_changed_processes(changed_model) -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where ocid in (select ocid from {{ ref(changed_model) }})
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- Filter of a process-keyed model's rows: on an incremental run only the changed ocids. The ref is
    always made, so dbt orders the model after the changed-ocid model. -#}
{% macro changed_processes_only(column, changed_model='int_goszakup__changed_releases') -%}
    {%- set changed = ref(changed_model) -%}
    {%- if is_incremental() -%}
    {{ column }} in (select ocid from {{ changed }})
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{#- An existing relation of this project by name (schema of `this`), or none: the previous build's
    state, read without ref() since it is rebuilt after the models that read it. -#}
{% macro previous_relation(name, schema=none) -%}
    {%- if execute -%}
    {{ return(adapter.get_relation(database=this.database, schema=schema or this.schema, identifier=name)) }}
    {%- else -%}
    {{ return(none) }}
    {%- endif -%}
{%- endmacro %}

{#- Rows of a raw table loaded after the last build (every row when there is no last build). -#}
{% macro loaded_since_last_build(table, state) -%}
    select * from {{ source('goszakup', table) }}
    {%- if state is not none %}
    where try_cast(_dlt_load_id as double) > (select try_cast(built_load_id as double) from {{ state }})
    {%- endif %}
{%- endmacro %}

{#- A fingerprint of the code tables (ref_*, as staged, without dlt's row ids) and of the vars every
    process depends on: a changed name, status, ocid prefix, time zone or default currency can
    change any process, so the next build redoes them all. -#}
{% macro code_tables_fingerprint() -%}
    {%- set refs = ['app_status', 'buy_lot_reject_reason', 'buy_status', 'contract_status', 'contract_type',
                    'countries', 'currency', 'enstru', 'finsource', 'kato', 'lots_status', 'months',
                    'pln_point_status', 'subject_type', 'trade_methods', 'type_trade', 'units'] -%}
    cast((
        {%- for r in refs %}
        coalesce((select sum(hash(t)) from {{ ref('stg_goszakup__ref_' ~ r) }} as t), 0){{ ' +' if not loop.last }}
        {%- endfor %}
    ) as varchar) || '|{{ var("ocid_prefix") }}|{{ var("source_timezone") }}|{{ var("currency") }}'
{%- endmacro %}

{#- The models keyed by ocid that read int_goszakup__changed_releases (the last build's state is
    recorded only after all of them). -#}
{% macro incremental_release_models() -%}
    {{ return(['int_goszakup__party_roles', 'amendments', 'award_suppliers', 'awards', 'bids', 'contract_items',
               'contracts', 'lots', 'parties', 'planning', 'releases', 'tender_items', 'tenders', 'transactions']) }}
{%- endmacro %}
