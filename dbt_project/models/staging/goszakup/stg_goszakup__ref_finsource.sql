-- Code table ref_finsource: typed; ref_id is the id other tables point to.
{{ stage_ref('ref_finsource') }}
