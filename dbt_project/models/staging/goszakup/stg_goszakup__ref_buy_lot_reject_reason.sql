-- Code table ref_buy_lot_reject_reason: typed; ref_id is the id other tables point to.
{{ stage_ref('ref_buy_lot_reject_reason') }}
