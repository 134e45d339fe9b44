-- The contracting processes (ocids) whose process-keyed rows a build must redo: those owning, now
-- or at the last build, an object whose raw row dlt loaded since the last build (a new or changed
-- record, or a changed child) or that the change journal deleted since then. Both owners count,
-- so an object moved from one announcement to another leaves the old one too. Every ocid when
-- there is no last build or a code table (ref_*) changed. Read by the incremental models'
-- pre-hooks (delete) and filters (insert); a full refresh does not use it.
{{ config(materialized='table') }}
-- depends_on: {{ ref('journal_service_names') }}
{%- set state = previous_relation('int_goszakup__build_state') %}
{%- set journal_src = source('goszakup', 'journal') %}
{%- set journal = adapter.get_relation(database=journal_src.database, schema=journal_src.schema, identifier=journal_src.identifier) if execute else none %}
{%- set prev = {} %}
{%- for name in ['int_goszakup__announcements', 'int_goszakup__lots', 'int_goszakup__applications',
                 'int_goszakup__application_lots', 'int_goszakup__contracts'] %}
{%- do prev.update({name: previous_relation(name)}) %}
{%- endfor %}
with deleted as (
    {%- if journal is not none and state is not none %}
    select s.entity, cast(j.object_id as bigint) as id
    from {{ journal_src }} as j
    inner join {{ ref('journal_service_names') }} as s on s.service_name = j.service_name
    where j.action = 'D'
        and try_cast(j._dlt_load_id as double) > (select try_cast(built_load_id as double) from {{ state }})
    {%- else %}
    select cast(null as varchar) as entity, cast(null as bigint) as id where false
    {%- endif %}
),

-- ids of changed objects per entity (children count for their parent process)
changed_announcements as (
    select id from ({{ loaded_since_last_build('trd_buy', state) }})
    union select id from deleted where entity = 'trd_buy'
),

changed_lots as (
    select id from ({{ loaded_since_last_build('lots', state) }})
    union select id from deleted where entity = 'lots'
),

changed_applications as (
    select id from ({{ loaded_since_last_build('trd_app', state) }})
    union select id from deleted where entity = 'trd_app'
),

changed_application_lots as (
    select id from ({{ loaded_since_last_build('app_lots', state) }})
    union select app_lot_id from ({{ loaded_since_last_build('offers', state) }})
),

changed_contracts as (
    select id from ({{ loaded_since_last_build('contract', state) }})
    union select id from deleted where entity = 'contract'
    union select contract_id from ({{ loaded_since_last_build('contract_units', state) }})
    union select contract_id from ({{ loaded_since_last_build('treasury_pay', state) }})
    union select contract_id from ({{ loaded_since_last_build('acts', state) }})
),

changed_plan_points as (
    select id from ({{ loaded_since_last_build('plans', state) }})
    union select id from deleted where entity = 'plans'
    union select pln_point_id from ({{ loaded_since_last_build('plans_kato', state) }})
),

-- the announcement (raw id) that owns each changed object now
announcement_now as (
    select id as announcement_id from changed_announcements
    union select l.trd_buy_id from {{ source('goszakup', 'lots') }} as l where l.id in (select id from changed_lots)
    union select a.buy_id from {{ source('goszakup', 'trd_app') }} as a where a.id in (select id from changed_applications)
    union
    select a.buy_id
    from {{ source('goszakup', 'app_lots') }} as al
    inner join {{ source('goszakup', 'trd_app') }} as a on a.id = al.app_id
    where al.id in (select id from changed_application_lots)
    union select c.trd_buy_id from {{ source('goszakup', 'contract') }} as c where c.id in (select id from changed_contracts)
    union
    select l.announcement_id
    from {{ ref('stg_goszakup__lots') }} as l
    where list_has_any(l.plan_point_ids, (select coalesce(list(id), []) from changed_plan_points))
),

ocid_now as (
    select {{ ocid('b.number_anno') }} as ocid
    from {{ source('goszakup', 'trd_buy') }} as b
    where b.id in (select announcement_id from announcement_now)
),

-- the process that owned each changed object at the last build
ocid_before as (
    {%- if state is not none and prev.values() | select('none') | list | length == 0 %}
    select ocid from {{ prev['int_goszakup__announcements'] }} where announcement_id in (select id from changed_announcements)
    union select ocid from {{ prev['int_goszakup__lots'] }} where lot_id in (select id from changed_lots)
    union
    select ocid from {{ prev['int_goszakup__lots'] }}
    where list_has_any(plan_point_ids, (select coalesce(list(id), []) from changed_plan_points))
    union select ocid from {{ prev['int_goszakup__applications'] }} where application_id in (select id from changed_applications)
    union
    select ocid from {{ prev['int_goszakup__application_lots'] }}
    where application_lot_id in (select id from changed_application_lots)
    union select ocid from {{ prev['int_goszakup__contracts'] }} where contract_id in (select id from changed_contracts)
    {%- else %}
    select cast(null as varchar) as ocid where false
    {%- endif %}
),

code_tables as (
    select {{ code_tables_fingerprint() }} as fingerprint
),

everything as (
    {%- if state is not none %}
    select (select refs_fingerprint from {{ state }}) is distinct from (select fingerprint from code_tables) as redo_all
    {%- else %}
    select true as redo_all
    {%- endif %}
)

select distinct ocid from (
    select ocid from ocid_now
    union all select ocid from ocid_before
    union all
    select {{ ocid('b.number_anno') }} from {{ source('goszakup', 'trd_buy') }} as b where (select redo_all from everything)
    {%- if prev['int_goszakup__announcements'] is not none %}
    union all
    select ocid from {{ prev['int_goszakup__announcements'] }} where (select redo_all from everything)
    {%- endif %}
)
where ocid is not null
