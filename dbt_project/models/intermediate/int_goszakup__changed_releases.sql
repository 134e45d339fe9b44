-- The contracting processes whose release rows a build must redo: the changed processes, plus every
-- process naming a party (buyer, organiser, tenderer, supplier) whose identifier row changed since
-- the last build (a renamed participant, a new participant record, a scheme now known). The
-- identifiers are an aggregate over all processes, rebuilt whole; the comparison is with the copy
-- the last build kept (int_goszakup__identifiers_built).
{{ config(materialized='table') }}
{%- set built = previous_relation('int_goszakup__identifiers_built') %}
with identifiers as (
    select * from {{ ref('int_goszakup__identifiers') }}
),

changed_identifiers as (
    {%- if built is not none %}
    select identifier from (select * from identifiers except select * from {{ built }})
    union
    select identifier from (select * from {{ built }} except select * from identifiers)
    {%- else %}
    select identifier from identifiers
    {%- endif %}
)

select distinct ocid from (
    select ocid from {{ ref('int_goszakup__changed_processes') }}
    union all
    select ocid from {{ ref('int_goszakup__announcements') }}
    where buyer_bin in (select identifier from changed_identifiers)
        or organizer_bin in (select identifier from changed_identifiers)
    union all
    select ocid from {{ ref('int_goszakup__applications') }}
    where supplier_biin in (select identifier from changed_identifiers)
    union all
    select ocid from {{ ref('int_goszakup__contracts') }}
    where supplier_biin in (select identifier from changed_identifiers)
        or buyer_bin in (select identifier from changed_identifiers)
)
