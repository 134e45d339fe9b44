-- Code table ref_trade_methods: typed; ref_id is the id other tables point to.
{{ stage_ref('ref_trade_methods') }}
