-- Nothing is lost: raw rows = OCDS rows + quarantined rows for announcements, lots and contracts.
select * from {{ ref('reconciliation') }} where not balanced
