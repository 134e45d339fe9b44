{#- Small SQL helpers shared by the goszakup models. -#}

{#- A naive API timestamp ('YYYY-MM-DD HH:MM:SS', Kazakhstan local time) as TIMESTAMPTZ with the
    zone made explicit (var source_timezone; ICU knows Almaty moved from UTC+6 to UTC+5 on
    2024-03-01). Unparsable text gives NULL; the connector already refuses malformed dates. -#}
{% macro local_ts(column) -%}
    timezone('{{ var("source_timezone") }}', try_strptime({{ column }}, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d']))
{%- endmacro %}

{#- Kazakh BIN/IIN check digit (12 digits): weights 1..11 mod 11; when that gives 10, weights
    3..11,1,2 mod 11; 10 again means the number is invalid. NULL stays NULL. -#}
{% macro biin_is_valid(column) -%}
    (case
        when {{ column }} is null then null
        when not regexp_full_match({{ column }}, '[0-9]{12}') then false
        when list_sum(list_transform(range(1, 12), lambda i: try_cast(substr({{ column }}, i, 1) as integer) * i)) % 11 <> 10
            then list_sum(list_transform(range(1, 12), lambda i: try_cast(substr({{ column }}, i, 1) as integer) * i)) % 11
                 = try_cast(substr({{ column }}, 12, 1) as integer)
        else list_sum(list_transform(range(1, 12), lambda i: try_cast(substr({{ column }}, i, 1) as integer) * ((i + 1) % 11 + 1))) % 11
                 = try_cast(substr({{ column }}, 12, 1) as integer)
    end)
{%- endmacro %}

{#- The OCDS ocid of an announcement: prefix '-' announcement number. -#}
{% macro ocid(number_anno) -%}
    ('{{ var("ocid_prefix") }}' || '-' || {{ number_anno }})
{%- endmacro %}

{#- The OCDS party id of a BIN/IIN holder within a release: '<scheme>-<number>'. -#}
{% macro party_id(scheme, number) -%}
    ({{ scheme }} || '-' || {{ number }})
{%- endmacro %}

{#- A staging model for a code table: every ref table has id, code, name_ru, name_kz (ref_kato
    adds parent_code and level). Column names are kept, types fixed. -#}
{% macro stage_ref(table) -%}
select
    cast(id as bigint) as ref_id,
    cast(code as varchar) as code,
    cast(name_ru as varchar) as name_ru,
    cast(name_kz as varchar) as name_kz,
    {%- set cols = adapter.get_columns_in_relation(source('goszakup', table)) | map(attribute='name') | list %}
    {% if 'parent_code' in cols %}cast(parent_code as varchar){% else %}cast(null as varchar){% endif %} as parent_code,
    {% if 'level' in cols %}cast(level as integer){% else %}cast(null as integer){% endif %} as level,
    {% if 'is_active' in cols %}cast(is_active as integer) = 1{% else %}cast(null as boolean){% endif %} as is_active
from {{ source('goszakup', table) }}
{%- endmacro %}

{#- The ids of a raw entity's records that the source deleted: the latest change-journal entry
    of the object says 'D'. Journal service names are mapped to entities by the seed
    journal_service_names. -#}
{% macro journal_deleted_ids(entity) -%}
    select object_id from {{ ref('stg_goszakup__journal') }}
    where entity = '{{ entity }}' and is_latest_for_object and action = 'D'
{%- endmacro %}

{#- One quarantine rule as a SELECT: rows of `relation` where `condition` holds, with the raw
    record (as JSON) looked up by its dlt row id. -#}
{% macro quarantine_rule(entity, relation, rule, field, condition, reason, record_id='id') -%}
    select
        '{{ entity }}' as entity,
        cast({{ record_id }} as varchar) as record_id,
        _dlt_id as raw_row_id,
        '{{ rule }}' as rule,
        '{{ field }}' as field,
        cast({{ reason }} as varchar) as reason
    from {{ relation }}
    where {{ condition }}
{%- endmacro %}

{#- Finish a quarantine model: attach the raw record as JSON and sort the rows. `rules` is the
    name of a CTE holding quarantine_rule() selects unioned. -#}
{% macro quarantine_finish(entity, rules_cte) -%}
    select
        q.entity,
        q.record_id,
        q.raw_row_id,
        q.rule,
        q.field,
        q.reason,
        -- a record the source deleted leaves the dataset: only its id and the reason stay
        case when q.rule = 'deleted_at_source' then null else {{ without_personal_data('to_json(r)') }} end as record
    from {{ rules_cte }} as q
    left join {{ source('goszakup', entity) }} as r on r._dlt_id = q.raw_row_id
{%- endmacro %}

{#- SQL condition (on the raw table, alias-free) that a record was deleted at source: the latest
    journal entry says 'D', a deleted flag of the contract (is_deleted / deleted) is 1, or dlt's
    _deleted marker is set. Only columns the raw table has are used. -#}
{% macro deleted_condition(entity, id_column='id', alias='') -%}
    {%- set a = (alias ~ '.') if alias else '' -%}
    {%- set cols = adapter.get_columns_in_relation(source('goszakup', entity)) | map(attribute='name') | list -%}
    ({{ a }}{{ id_column }} in ({{ journal_deleted_ids(entity) }})
    {%- for flag in ['is_deleted', 'deleted'] if flag in cols %} or coalesce({{ a }}{{ flag }}, 0) = 1{% endfor %}
    {%- if '_deleted' in cols %} or coalesce({{ a }}_deleted, false){% endif %})
{%- endmacro %}

{#- Rule: the source deleted the record. Reads the raw table, since staging removed these rows. -#}
{% macro rule_deleted(entity, id_column='id') -%}
    {{ quarantine_rule(entity, source('goszakup', entity), 'deleted_at_source', id_column,
        deleted_condition(entity, id_column),
        "'deleted at source (change journal, deleted flag or dlt _deleted): removed from the dataset'",
        record_id=id_column) }}
{%- endmacro %}

{#- Rule: the key occurs more than once. Every copy is quarantined (nothing deduplicated silently). -#}
{% macro rule_duplicate(entity, relation, key, record_id=none, rule='duplicate_id') -%}
    {{ quarantine_rule(entity, relation, rule, key,
        key ~ " in (select " ~ key ~ " from " ~ relation ~ " group by " ~ key ~ " having count(*) > 1)",
        "'" ~ key ~ " ' || " ~ key ~ " || ' occurs more than once'", record_id=record_id or key) }}
{%- endmacro %}

{#- Rule: a parent key does not resolve to a clean parent record. -#}
{% macro rule_parent_missing(entity, relation, key, record_id, parent_relation, parent_key, rule, what) -%}
    {{ quarantine_rule(entity, relation, rule, key,
        key ~ " is null or " ~ key ~ " not in (select " ~ parent_key ~ " from " ~ parent_relation ~ " where " ~ parent_key ~ " is not null)",
        "'" ~ what ~ " ' || coalesce(cast(" ~ key ~ " as varchar), 'NULL') || ' is missing or quarantined'",
        record_id=record_id) }}
{%- endmacro %}

{#- Rule: a BIN/IIN fails the Kazakh check digit (or is missing when `required`). -#}
{% macro rule_biin(entity, relation, column, record_id, required=true) -%}
    {{ quarantine_rule(entity, relation, 'invalid_biin', column,
        ("coalesce(" ~ biin_is_valid(column) ~ ", false) = false") if required else (biin_is_valid(column) ~ " = false"),
        "'" ~ column ~ " ' || coalesce('''' || " ~ column ~ " || '''', 'NULL') || ' is not a valid 12-digit BIN/IIN (check digit)'",
        record_id=record_id) }}
{%- endmacro %}

{#- Rule: an amount is negative. -#}
{% macro rule_negative(entity, relation, column, record_id) -%}
    {{ quarantine_rule(entity, relation, 'negative_amount', column, column ~ " < 0",
        "'" ~ column ~ " is negative: ' || " ~ column, record_id=record_id) }}
{%- endmacro %}

{#- The clean rows of a staging model: those whose raw row has no quarantine entry. -#}
{% macro without_quarantined(staging_relation, quarantine_relation) -%}
    select * from {{ staging_relation }}
    where _dlt_id not in (select raw_row_id from {{ quarantine_relation }})
{%- endmacro %}

{#- A JSON record without the contact details of the personal data policy (var personal_data_fields). -#}
{% macro without_personal_data(json_expr) -%}
    {%- set ns = namespace(sql=json_expr) -%}
    {%- for field in var('personal_data_fields') -%}
        {%- set ns.sql = "json_remove(" ~ ns.sql ~ ", '$." ~ field ~ "')" -%}
    {%- endfor -%}
    {{ ns.sql }}
{%- endmacro %}
