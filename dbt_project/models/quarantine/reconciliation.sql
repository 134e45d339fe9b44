-- Row counts that prove nothing is lost: every raw announcement, lot and contract row is either in
-- the OCDS tables or in a quarantine table (deletions at source included, with their reason).
{%- set checks = [
    ('trd_buy', 'tenders', "select count(*) from " ~ ref('tenders')),
    ('lots', 'lots', "select count(*) from " ~ ref('lots')),
    ('contract', 'contracts + amendments', "select (select count(*) from " ~ ref('contracts') ~ ") + (select count(*) from " ~ ref('amendments') ~ ")"),
] %}

with counts as (
{% for entity, tables, ocds_count in checks %}
    select
        '{{ entity }}' as entity,
        '{{ tables }}' as ocds_tables,
        (select count(*) from {{ source('goszakup', entity) }}) as raw_rows,
        ({{ ocds_count }}) as ocds_rows,
        (select count(distinct raw_row_id) from {{ ref('quarantine_' ~ entity) }}) as quarantined_rows
    {% if not loop.last %}union all{% endif %}
{% endfor %}
)

select *, raw_rows = ocds_rows + quarantined_rows as balanced
from counts
order by entity
