{{ config(materialized='view') }}
-- Every quarantined record in one place: the per-entity quarantine tables of the OCDS models
-- (stage 'transform') and the records the connector refused at ingestion (raw._quarantine,
-- stage 'ingest').
{%- set entities = ['trd_buy', 'lots', 'contract', 'contract_units', 'treasury_pay', 'plans', 'plans_kato',
                    'trd_app', 'app_lots', 'offers', 'acts', 'subject', 'rnu'] %}
{%- set ingest = adapter.get_relation(database=source('goszakup', '_quarantine').database,
                                      schema=source('goszakup', '_quarantine').schema,
                                      identifier=source('goszakup', '_quarantine').identifier) %}

{% for entity in entities %}
select 'transform' as stage, entity, record_id, raw_row_id, rule, field, reason, cast(record as varchar) as record
from {{ ref('quarantine_' ~ entity) }}
union all
{% endfor %}
{%- if ingest is not none %}
select
    'ingest' as stage,
    cast(table_name as varchar) as entity,
    cast(record_id as varchar),
    cast(null as varchar),
    'contract_type' as rule,
    cast(field as varchar),
    cast(reason as varchar),
    cast({{ without_personal_data('cast(record as json)') }} as varchar)
from {{ source('goszakup', '_quarantine') }}
{%- else %}
-- raw._quarantine does not exist yet: the connector has refused nothing
select null, null, null, null, null, null, null, null where false
{%- endif %}
