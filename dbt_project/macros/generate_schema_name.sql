{#- Schemas are exactly the configured names (staging, intermediate, ocds, quarantine, risk), with
    no "<target schema>_" prefix: other tools (publish/, expectations/, Dagster) address them by
    these names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
