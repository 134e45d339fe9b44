-- Code table ref_countries: typed; ref_id is the id other tables point to.
{{ stage_ref('ref_countries') }}
