-- Code table ref_kato: typed; ref_id is the id other tables point to.
{{ stage_ref('ref_kato') }}
