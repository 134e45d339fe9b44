-- Code table ref_app_status: typed; ref_id is the id other tables point to.
{{ stage_ref('ref_app_status') }}
