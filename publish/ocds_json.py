"""OCDS JSON export: compiled releases as gzipped JSON Lines, one file per year.

Why this shape: the OCP Data Registry publishes compiled releases as ``.jsonl.gz`` per year; a
consumer streams them line by line, and a release package is the lines wrapped with the package
metadata (:func:`release_package`). The releases are assembled from the flattened ``ocds.*``
tables that dbt builds (``dbt_project/models/ocds``), so the JSON and the tables cannot disagree.

Streaming: DuckDB builds one nested row per release for one year at a time (the child tables are
aggregated into lists per ocid) and hands it over as JSON text, read in batches of
:data:`BATCH_SIZE`; a national year (0.9 M releases) is never held in memory at once. Python only
drops the empty fields (OCDS wants them absent, which SQL cannot say generically) with orjson:
turning DuckDB's nested rows into Python objects cost more than the whole rest of the export.

Same input, same output: rows are ordered by ocid, child lists by their ids, JSON keys are sorted,
and gzip gets ``mtime=0`` and no file name, so two exports of the same tables are byte-identical.

Validation: :func:`validate_release_package` runs libcoveocds offline against the OCDS 1.1 schema
vendored in ``dbt_project/ocds_schema`` (libcoveocds would otherwise download the standard).
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import orjson

# the vendored OCDS 1.1.5 schema files (validation keywords only; see dbt_project/README.md)
from pipelines.ocds_schema import SCHEMA_DIR

OCDS_VERSION = "1.1"
BATCH_SIZE = 5_000
GZIP_LEVEL = 6

# Dates leave DuckDB as RFC 3339 strings in UTC.
_TS = "strftime({col} at time zone 'UTC', '%Y-%m-%dT%H:%M:%SZ')"


def _ts(col: str) -> str:
    return _TS.format(col=col)


def _value(amount: str, currency: str, net: str | None = None) -> str:
    """An OCDS Value; ``amountNet`` (local field) keeps the amount without VAT next to it."""
    net_part = f", 'amountNet': {net}" if net else ""
    return f"case when {amount} is null then null else {{'amount': {amount}, 'currency': {currency}{net_part}}} end"


def _org_ref(party_id: str, name: str) -> str:
    return f"case when {party_id} is null then null else {{'id': {party_id}, 'name': {name}}} end"


#: One row per release of a year: every child table aggregated into a list per ocid.
RELEASES_SQL = f"""
with rel as (
    select * from ocds.releases where publication_year = $year
),
parties as (
    select p.ocid, list({{
        'id': p.id, 'name': p.name, 'roles': p.roles,
        'identifier': {{'scheme': p.identifier_scheme, 'id': p.identifier_id, 'legalName': p.identifier_legal_name}}
    }} order by p.id) as parties
    from ocds.parties as p semi join rel using (ocid) group by p.ocid
),
lots as (
    select l.ocid, list({{
        'id': l.id, 'title': l.title, 'description': l.description, 'status': l.status,
        'value': {_value("l.value_amount", "l.value_currency")}
    }} order by l.id) as lots
    from ocds.lots as l semi join rel using (ocid) group by l.ocid
),
items as (
    select i.ocid, list({{
        'id': i.id, 'description': i.description, 'quantity': i.quantity, 'relatedLot': i.related_lot,
        'classification': case when i.classification_id is null then null else
            {{'scheme': i.classification_scheme, 'id': i.classification_id, 'description': i.classification_description}} end
    }} order by i.id) as items
    from ocds.tender_items as i semi join rel using (ocid) group by i.ocid
),
bids as (
    select b.ocid,
        list({{
            'id': b.id, 'date': {_ts("b.date")}, 'status': b.status,
            'tenderers': [{_org_ref("b.tenderer_id", "b.tenderer_name")}],
            'value': {_value("b.value_amount", "b.value_currency")},
            'relatedLots': case when b.related_lot is null then null else [b.related_lot] end
        }} order by b.id) as details,
        list(distinct {{'id': b.tenderer_id, 'name': b.tenderer_name}}) as tenderers
    from ocds.bids as b semi join rel using (ocid) group by b.ocid
),
award_suppliers as (
    select ocid, award_id, list({{'id': id, 'name': name}} order by id) as suppliers
    from ocds.award_suppliers semi join rel using (ocid) group by ocid, award_id
),
awards as (
    select a.ocid, list({{
        'id': a.id, 'status': a.status, 'date': {_ts("a.date")},
        'value': {_value("a.value_amount", "a.value_currency", "a.value_amount_net")},
        'suppliers': s.suppliers, 'relatedLots': a.related_lots
    }} order by a.id) as awards
    from ocds.awards as a semi join rel using (ocid)
    left join award_suppliers as s on s.ocid = a.ocid and s.award_id = a.id
    group by a.ocid
),
contract_items as (
    select ocid, contract_id, list({{
        'id': id, 'description': description, 'quantity': quantity, 'relatedLot': related_lot,
        'classification': case when classification_id is null then null else
            {{'scheme': classification_scheme, 'id': classification_id}} end,
        'unit': case when unit_value_amount is null then null else
            {{'value': {_value("unit_value_amount", "currency", "unit_value_amount_net")}}} end
    }} order by id) as items
    from ocds.contract_items semi join rel using (ocid) group by ocid, contract_id
),
amendments as (
    select ocid, contract_id, list({{
        'id': id, 'date': {_ts("date")}, 'description': description
    }} order by id) as amendments
    from ocds.amendments semi join rel using (ocid) group by ocid, contract_id
),
transactions as (
    select ocid, contract_id, list({{
        'id': id, 'date': {_ts("date")}, 'value': {_value("value_amount", "value_currency")},
        'payer': {_org_ref("payer_id", "payer_name")}, 'payee': {_org_ref("payee_id", "payee_name")}
    }} order by id) as transactions
    from ocds.transactions semi join rel using (ocid) group by ocid, contract_id
),
contracts as (
    select c.ocid, list({{
        'id': c.id, 'awardID': c.award_id, 'title': c.title, 'description': c.description,
        'status': c.status, 'statusDetails': c.status_details, 'dateSigned': {_ts("c.date_signed")},
        'period': {{'startDate': {_ts("c.period_start_date")}, 'endDate': {_ts("c.period_end_date")}}},
        'value': {_value("c.value_amount", "c.value_currency", "c.value_amount_net")},
        'items': i.items, 'amendments': m.amendments,
        'implementation': {{'transactions': t.transactions}}
    }} order by c.id) as contracts
    from ocds.contracts as c semi join rel using (ocid)
    left join contract_items as i on i.ocid = c.ocid and i.contract_id = c.id
    left join amendments as m on m.ocid = c.ocid and m.contract_id = c.id
    left join transactions as t on t.ocid = c.ocid and t.contract_id = c.id
    group by c.ocid
),
planning as (
    select ocid, sum(budget_amount) as budget_amount, any_value(budget_currency) as budget_currency,
        'Plan points ' || string_agg(id, ', ' order by id) as budget_description
    from ocds.planning semi join rel using (ocid) group by ocid
)
select {{
    'ocid': r.ocid, 'id': r.id, 'date': {_ts("r.date")}, 'tag': r.tag,
    'initiationType': r.initiation_type, 'language': r.language,
    'buyer': {_org_ref("r.buyer_id", "r.buyer_name")},
    'parties': p.parties,
    'planning': case when pl.ocid is null then null else {{'budget': {{
        'description': pl.budget_description,
        'amount': {_value("pl.budget_amount", "pl.budget_currency")}}}}} end,
    'tender': {{
        'id': t.id, 'title': t.title, 'status': t.status, 'statusDetails': t.status_details,
        'procurementMethod': t.procurement_method, 'procurementMethodDetails': t.procurement_method_details,
        'mainProcurementCategory': t.main_procurement_category,
        'value': {_value("t.value_amount", "t.value_currency")},
        'procuringEntity': {_org_ref("t.procuring_entity_id", "t.procuring_entity_name")},
        'datePublished': {_ts("t.date_published")},
        'tenderPeriod': {{'startDate': {_ts("t.tender_period_start_date")}, 'endDate': {_ts("t.tender_period_end_date")}}},
        'enquiryPeriod': {{'startDate': {_ts("t.enquiry_period_start_date")}, 'endDate': {_ts("t.enquiry_period_end_date")}}},
        'awardPeriod': {{'startDate': {_ts("t.award_period_start_date")}}},
        'numberOfTenderers': t.number_of_tenderers,
        'tenderers': list_sort(b.tenderers),
        'items': i.items, 'lots': l.lots
    }},
    'bids': {{'details': b.details}},
    'awards': a.awards,
    'contracts': c.contracts
}} as release
from rel as r
inner join ocds.tenders as t on t.ocid = r.ocid
left join parties as p on p.ocid = r.ocid
left join lots as l on l.ocid = r.ocid
left join items as i on i.ocid = r.ocid
left join bids as b on b.ocid = r.ocid
left join awards as a on a.ocid = r.ocid
left join contracts as c on c.ocid = r.ocid
left join planning as pl on pl.ocid = r.ocid
order by r.ocid
"""


def _prune(value: Any) -> Any:
    """Drop NULLs, empty objects and empty lists: OCDS wants absent fields, not nulls."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = _prune(item)
            if item is not None:
                out[key] = item
        return out or None
    if isinstance(value, list):
        items = [p for p in (_prune(v) for v in value) if p is not None]
        return items or None
    return value


def _dumps(release: dict[str, Any]) -> bytes:
    """One JSON Lines line: compact, keys sorted, UTF-8 (not ASCII-escaped)."""
    return orjson.dumps(release, option=orjson.OPT_SORT_KEYS)


def iter_releases(
    con: duckdb.DuckDBPyConnection, year: int, *, batch_size: int = BATCH_SIZE
) -> Iterator[dict]:
    """The compiled releases of one publication year, in ocid order, streamed in batches."""
    cur = con.cursor()
    try:
        cur.execute(f"select to_json(release)::varchar from ({RELEASES_SQL})", {"year": year})
        while rows := cur.fetchmany(batch_size):
            for (text,) in rows:
                yield _prune(orjson.loads(text))
    finally:
        cur.close()


def publication_years(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Years that have releases (by the announcement's publication date, local time)."""
    rows = con.execute(
        "select distinct publication_year from ocds.releases where publication_year is not null order by 1"
    ).fetchall()
    return [int(y) for (y,) in rows]


def package_metadata(*, publisher_name: str, published_date: str, uri: str) -> dict[str, Any]:
    """The release package fields other than ``releases`` (OCDS 1.1 release package)."""
    return {
        "publishedDate": published_date,
        "publisher": {"name": publisher_name},
        "uri": uri,
        "version": OCDS_VERSION,
    }


def release_package(releases: Iterable[dict], *, publisher_name: str, published_date: str, uri: str) -> dict:
    """Wrap compiled releases (e.g. the lines of a ``releases_<year>.jsonl.gz``) in a release package."""
    package = package_metadata(publisher_name=publisher_name, published_date=published_date, uri=uri)
    package["releases"] = list(releases)
    return package


def read_releases(path: Path) -> Iterator[dict]:
    """The compiled releases of a ``releases_<year>.jsonl.gz`` file, one by one."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def _check_prefix(release: dict, ocid_prefix: str) -> None:
    if not release["ocid"].startswith(ocid_prefix + "-"):
        raise ValueError(
            f"release {release['ocid']!r}: ocid does not start with the ocid prefix {ocid_prefix!r}; "
            "rebuild dbt with the same prefix (GOSZAKUP_OCID_PREFIX / var ocid_prefix)"
        )


def write_release_packages(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    *,
    publisher_name: str,
    published_date: str,
    uri_base: str,
    ocid_prefix: str,
) -> list[Path]:
    """Write ``releases_<year>.jsonl.gz`` (one compiled release per line) for every year.

    Beside each, ``releases_<year>.package.json`` holds the release package metadata (uri,
    publisher, publishedDate, version): the lines wrapped in ``releases`` under it form a valid
    OCDS 1.1 release package (:func:`release_package`). Returns every file written, sorted.
    Raises ValueError if an ocid does not carry ``ocid_prefix``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = uri_base.rstrip("/")
    written: list[Path] = []
    for year in publication_years(con):
        path = out_dir / f"releases_{year}.jsonl.gz"
        tmp = path.with_name(path.name + ".tmp")
        with (
            tmp.open("wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=GZIP_LEVEL) as gz,
            io.BufferedWriter(gz, 1 << 20) as out,  # few large writes into zlib, not one per line
        ):
            for release in iter_releases(con, year):
                _check_prefix(release, ocid_prefix)
                out.write(_dumps(release) + b"\n")
        tmp.replace(path)
        meta = package_metadata(
            publisher_name=publisher_name, published_date=published_date, uri=f"{base}/{path.name}"
        )
        meta_path = out_dir / f"releases_{year}.package.json"
        meta_path.write_text(
            json.dumps(meta, ensure_ascii=False, sort_keys=True, indent=2) + "\n", encoding="utf-8"
        )
        written += [path, meta_path]
    return sorted(written)


def _standard_zip(schema_dir: Path = SCHEMA_DIR) -> bytes:
    """The vendored schema as the ZIP of the standard repository that ocdsextensionregistry reads."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("standard-1__1__5/", "")
        for file in sorted(schema_dir.rglob("*")):
            if file.is_file():
                zf.write(file, f"standard-1__1__5/schema/{file.relative_to(schema_dir).as_posix()}")
    return buf.getvalue()


def validate_release_package(package: dict, *, schema_dir: Path = SCHEMA_DIR) -> dict:
    """Run libcoveocds on a release package offline; returns its result (``validation_errors`` ...).

    libcoveocds takes the standard from ``config['standard_zip']`` (bytes of a ZIP are accepted by
    ocdsextensionregistry), so pointing it at the vendored files avoids any download. Extensions
    are not declared in the package (they would be downloaded), so lots and bids fields show up as
    additional fields, not errors.
    """
    from libcoveocds.api import ocds_json_output
    from libcoveocds.config import LibCoveOCDSConfig

    config = LibCoveOCDSConfig()
    config.config["context"] = "api"
    config.config["standard_zip"] = _standard_zip(schema_dir)
    return ocds_json_output(json_data=package, lib_cove_ocds_config=config, schema_version=OCDS_VERSION)


__all__ = [
    "iter_releases",
    "package_metadata",
    "publication_years",
    "read_releases",
    "release_package",
    "validate_release_package",
    "write_release_packages",
]
