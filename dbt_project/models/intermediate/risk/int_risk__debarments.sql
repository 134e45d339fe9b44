-- Entries of the register of unreliable suppliers (RNU) by the supplier's BIN/IIN, read from the
-- published risk.debarment_register (risk_input), so the flags can be recomputed from a version.
select rnu_id, identifier, start_at, end_at, reason
from {{ risk_input('debarment_register') }}
