-- Code table ref_months: typed; ref_id is the id other tables point to.
{{ stage_ref('ref_months') }}
