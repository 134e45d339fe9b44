{#- Generic tests for composite keys (dbt_utils is not a dependency: no package downloads). -#}

{#- The combination of `columns` is unique (and each row has them all). -#}
{% test unique_key(model, columns) %}
select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#- Every row's `columns` (where none is NULL) match `to_columns` of a row in `to`. -#}
{% test composite_relationship(model, columns, to, to_columns) %}
select child.*
from {{ model }} as child
where {% for c in columns %}child.{{ c }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
  and not exists (
    select 1 from {{ to }} as parent
    where {% for c in columns %}parent.{{ to_columns[loop.index0] }} = child.{{ c }}{% if not loop.last %} and {% endif %}{% endfor %}
  )
{% endtest %}

{#- Every element of a list column is one of `values`. -#}
{% test list_accepted_values(model, column_name, values) %}
select *
from (select unnest({{ column_name }}) as element from {{ model }})
where element not in ({% for v in values %}'{{ v }}'{% if not loop.last %}, {% endif %}{% endfor %})
{% endtest %}
