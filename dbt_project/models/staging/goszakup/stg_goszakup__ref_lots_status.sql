-- Code table ref_lots_status: typed; ref_id is the id other tables point to.
{{ stage_ref('ref_lots_status') }}
