-- depends_on: {{ ref('journal_service_names') }}
-- The change journal, typed, with the service name mapped to a raw entity (seed
-- journal_service_names; unknown service names keep entity NULL and are not applied).
-- The connector may apply deletions itself and load no raw.journal: then this view is empty.
{%- set src = source('goszakup', 'journal') %}
{%- set journal_exists = adapter.get_relation(database=src.database, schema=src.schema, identifier=src.identifier) is not none %}
with journal as (
    {% if journal_exists %}
    select
        cast(j.action as varchar) as action,
        cast(j.object_id as bigint) as object_id,
        {{ local_ts('j.date_action') }} as action_at,
        cast(j.service_name as varchar) as service_name,
        cast(j.service_title as varchar) as service_title,
        cast(j.url as varchar) as url,
        s.entity,
        j._dlt_id
    from {{ src }} as j
    left join {{ ref('journal_service_names') }} as s on s.service_name = j.service_name
    {% else %}
    select
        cast(null as varchar) as action, cast(null as bigint) as object_id, cast(null as timestamptz) as action_at,
        cast(null as varchar) as service_name, cast(null as varchar) as service_title, cast(null as varchar) as url,
        cast(null as varchar) as entity, cast(null as varchar) as _dlt_id
    where false
    {% endif %}
)

select
    *,
    row_number() over (
        partition by entity, object_id order by action_at desc, action desc, _dlt_id desc
    ) = 1 as is_latest_for_object
from journal
