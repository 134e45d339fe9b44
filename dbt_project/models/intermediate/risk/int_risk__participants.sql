-- One row per BIN/IIN of the participant register: registration date and VAT-payer status (NULL
-- when unknown: the flags that need it are then not computable). Read from the published
-- risk.organisation_register (risk_input), so the flags can be recomputed from a version.
select
    identifier,
    party_id,
    registered_at,
    is_vat_payer
from {{ risk_input('organisation_register') }}
where has_participant_record
