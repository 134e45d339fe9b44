-- Composite risk score per buyer (its processes); see the macro risk_organisation_scores.
{{ risk_organisation_scores(
    'buyer',
    "select ocid, buyer_id as party_id from " ~ ref('int_risk__processes') ~ " where not is_cancelled and buyer_id is not null"
) }}
