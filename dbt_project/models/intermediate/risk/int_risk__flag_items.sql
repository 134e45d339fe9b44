-- Every measured object of every process-grain flag (one row per ocid, flag and object: the
-- process, a lot, a contract or a contract item) with its status, value, threshold, severity (what
-- ranks the objects of a process) and evidence. risk.process_flags rolls it up per process,
-- risk.organisation_flags per organisation for the roles of seed risk_flags.rolled_up_roles.
{%- set flags = [
    'r003', 'r018', 'r024', 'r028', 'r030', 'r035', 'r036', 'r055', 'r058',
    'debarred_winner', 'new_company', 'non_open', 'direct_after_failed', 'method_mismatch',
    'buyer_dependence', 'decision_period', 'overstated_value', 'many_amendments',
    'frequent_price_changes', 'amendment_value_increase', 'many_product_codes',
    'unit_price_outlier', 'vat_non_payer', 'bid_rotation',
] %}
{% for f in flags %}
select * from {{ ref('int_risk__flag_' ~ f) }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
