-- Code table ref_enstru: typed; ref_id is the id other tables point to.
{{ stage_ref('ref_enstru') }}
