-- Code table ref_currency: typed; ref_id is the id other tables point to.
{{ stage_ref('ref_currency') }}
