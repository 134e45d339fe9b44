-- Composite risk score per supplier (the processes it won a contract in); see the macro
-- risk_organisation_scores.
{{ risk_organisation_scores(
    'supplier',
    "select distinct ocid, unnest(supplier_ids) as party_id from " ~ ref('int_risk__contracts')
) }}
