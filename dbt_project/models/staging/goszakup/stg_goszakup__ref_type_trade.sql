-- Code table ref_type_trade: typed; ref_id is the id other tables point to.
{{ stage_ref('ref_type_trade') }}
