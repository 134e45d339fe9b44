-- Participants (buyers, organisers, suppliers): typed, renamed; deleted ones removed.
-- identifier/identifier_scheme: the BIN (legal entity) or else the IIN (individual).
select
    s.pid as subject_pid,
    s.bin,
    s.iin,
    coalesce(nullif(s.bin, ''), nullif(s.iin, '')) as identifier,
    case when nullif(s.bin, '') is not null then 'KZ-BIN' when nullif(s.iin, '') is not null then 'KZ-IIN' end
        as identifier_scheme,
    s.inn as foreign_tax_number,
    s.unp as foreign_unp,
    {{ local_ts('s.regdate') }} as registered_at,
    {{ local_ts('s.crdate') }} as created_at,
    s.name_ru,
    s.name_kz as name_kk,
    s.email,
    s.phone,
    s.website,
    {{ local_ts('s.last_update_date') }} as last_updated_at,
    s.country_code,
    s.qvazi = 1 as is_quasi_public,
    s.customer = 1 as is_buyer,
    s.organizer = 1 as is_organizer,
    s.supplier = 1 as is_supplier,
    s.mark_national_company = 1 as is_national_company,
    s.ref_kopf_code as legal_form_code,
    s.mark_resident = 1 as is_resident,
    s.krp_code as size_code,
    s.oked_list as activity_codes,
    s.kse_code as sector_code,
    s.mark_small_employer = 1 as is_small_employer,
    s.type_supplier as supplier_type,
    s.is_single_org = 1 as is_single_organizer,
    s.kato as kato_code,
    s.vat_payer = 1 as is_vat_payer,
    s._dlt_id
from {{ source('goszakup', 'subject') }} as s
where not {{ deleted_condition('subject', 'pid', 's') }}
