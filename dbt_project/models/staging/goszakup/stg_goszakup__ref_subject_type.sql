-- Code table ref_subject_type: typed; ref_id is the id other tables point to.
{{ stage_ref('ref_subject_type') }}
