-- Code table ref_contract_type: typed; ref_id is the id other tables point to.
{{ stage_ref('ref_contract_type') }}
