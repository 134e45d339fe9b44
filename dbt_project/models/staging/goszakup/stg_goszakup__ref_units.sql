-- Code table ref_units: typed; ref_id is the id other tables point to.
{{ stage_ref('ref_units') }}
