-- Plan points that passed every quarantine rule.
{{ without_quarantined(ref('stg_goszakup__plans'), ref('quarantine_plans')) }}
