-- Code table ref_pln_point_status: typed; ref_id is the id other tables point to.
{{ stage_ref('ref_pln_point_status') }}
