"""``python -m pipelines check-api``: how the API differs from the contract, before anything loads.

Why: the contract (``goszakup_api.py``) was written from public clients; a new token against the
real API should say, in a minute and without touching the warehouse, which fields are missing,
which are new and which carry another type, and what the loader will do with each difference:
``coerced`` (converted without loss, counted), ``quarantined`` (the record is refused) or ``fatal``
(the run stops: the API refuses the query the loader sends). The verdicts come from the loader's
own rules (:mod:`pipelines.sources.coercion`), so the probe cannot disagree with a load.

It reads GraphQL introspection where the API answers it, and one small page of every entity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipelines.goszakup_api import ENTITIES, Entity, Field
from pipelines.sources.coercion import LIST_TYPES, MISSING, verdict
from pipelines.sources.goszakup import graphql_query
from pipelines.sources.http import SourceError, api_message, fail_on_status, graphql_errors, make_client

SAMPLE_SIZE = 5

INTROSPECTION = """
query { __schema { types { name kind fields { name type { kind name ofType { kind name ofType {
  kind name } } } } } queryType { fields { name type { kind name ofType { kind name } } } } } }
"""

#: GraphQL types whose values fit a contract type as they are.
_FITS = {
    "int": {"Int", "Float", "ID"},
    "float": {"Float", "Int"},
    "str": {"String", "ID"},
    "datetime": {"String", "DateTime", "Date"},
    "bool": {"Boolean"},
}
#: A GraphQL type that does not fit: what the loader does with its values.
_ACROSS = {
    ("int", "String"): "coerced when canonical digits, quarantined when zero-padded",
    ("int", "Boolean"): "coerced (bool->int)",
    ("float", "String"): "coerced when numeric, quarantined otherwise",
    ("str", "Int"): "coerced (int->str)",
    ("str", "Float"): "quarantined (a number with a fraction is not a code)",
    ("datetime", "Int"): "coerced (epoch milliseconds)",
}


@dataclass
class EntityReport:
    """Differences of one entity: (field, what differs, verdict) lines, and a fatal error if any."""

    entity: str
    api: str
    sampled: int = 0
    missing: list[tuple[str, str]] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    types: list[tuple[str, str, str]] = field(default_factory=list)
    fatal: str | None = None

    @property
    def clean(self) -> bool:
        return not (self.missing or self.new or self.types or self.fatal)

    @property
    def lossless(self) -> bool:
        quarantined = any(v.startswith("quarantined") for _, _, v in self.types)
        return self.fatal is None and not quarantined and not any(v == "fatal" for _, v in self.missing)

    def lines(self) -> list[str]:
        head = f"{self.entity} ({self.api}, {self.sampled} records read)"
        if self.fatal:
            return [f"{head}: fatal: {self.fatal}"]
        if self.clean:
            return [f"{head}: matches the contract"]
        out = [f"{head}:"]
        out += [f"  missing {name}: {outcome}" for name, outcome in self.missing]
        out += [f"  new {name}: kept as a new column" for name in self.new]
        out += [f"  type {name}: {what}: {outcome}" for name, what, outcome in self.types]
        return out


def _type_name(ref: dict | None) -> str:
    """``[Int]`` / ``String`` from an introspection type reference (non-null wrappers dropped)."""
    if not ref:
        return "?"
    if ref["kind"] == "NON_NULL":
        return _type_name(ref.get("ofType"))
    if ref["kind"] == "LIST":
        return f"[{_type_name(ref.get('ofType'))}]"
    return str(ref["name"])


def schema_fields(schema: dict) -> dict[str, dict[str, str]]:
    """Root field name -> {field name: GraphQL type} of the object type the root returns."""
    types = {t["name"]: t for t in schema["types"] if t.get("fields")}
    out: dict[str, dict[str, str]] = {}
    for root in schema["queryType"]["fields"]:
        item = _type_name(root["type"]).strip("[]")
        if item in types:
            out[root["name"]] = {f["name"]: _type_name(f["type"]) for f in types[item]["fields"]}
    return out


def type_verdict(contract: Field, graphql_type: str) -> str | None:
    """The loader's verdict on a field the API declares as ``graphql_type`` (None: it fits)."""
    t = contract.type
    if t in LIST_TYPES:
        if not graphql_type.startswith("["):
            return "coerced (scalar->list)"
        inner = graphql_type.strip("[]")
        fits = _FITS[t[:-2]]
        return None if inner in fits else _ACROSS.get((t[:-2], inner), "quarantined")
    if graphql_type.startswith("["):
        return "quarantined (a list where one value is declared)"
    if graphql_type in _FITS[t]:
        return None
    return _ACROSS.get((t, graphql_type), "quarantined")


def compare_sample(
    report: EntityReport, entity: Entity, records: list[dict], *, camel_case: bool, zone: str
) -> None:
    """Missing, new and differently typed fields seen in ``records``, with the loader's verdicts."""
    by_key = {(f.camel if camel_case else f.name): f for f in entity.fields}
    children = {c.graphql_name for c in entity.children}
    seen: set[str] = set()
    verdicts: dict[str, set[str]] = {}
    for record in records:
        seen.update(record)
        for key, contract in by_key.items():
            value = record.get(key, MISSING)
            if value is MISSING and contract.type not in LIST_TYPES:
                continue
            found = verdict(contract, value, zone)
            if found is not None:
                verdicts.setdefault(contract.name, set()).add(f"{found.outcome} ({found.detail})")
    for key, contract in by_key.items():
        if records and key not in seen and not any(m[0] == contract.name for m in report.missing):
            outcome = "coerced (missing->[])" if contract.type in LIST_TYPES else "loads as null"
            report.missing.append((contract.name, outcome))
    for key in sorted(seen - set(by_key) - children):
        if key not in report.new:
            report.new.append(key)
    for name, outcomes in sorted(verdicts.items()):
        for outcome in sorted(outcomes):
            report.types.append((name, "values seen", outcome))


def probe_entity(
    client: Any, entity: Entity, schema: dict[str, dict[str, str]] | None, zone: str
) -> EntityReport:
    """One entity's report: introspection (GraphQL), then one page of ``SAMPLE_SIZE`` records."""
    api = "graphql" if entity.default_api == "graphql" else "rest"
    report = EntityReport(entity.name, api)
    try:
        if api == "graphql":
            declared = (schema or {}).get(entity.graphql_root or "")
            if schema is not None and declared is None:
                report.fatal = f"the API has no GraphQL root {entity.graphql_root}"
                return report
            for f in entity.fields if declared else ():
                if f.camel not in declared:
                    report.missing.append((f.name, "fatal"))
                else:
                    outcome = type_verdict(f, declared[f.camel])
                    if outcome:
                        report.types.append((f.name, f"declared {declared[f.camel]}", outcome))
            known = {f.camel for f in entity.fields} | {c.graphql_name for c in entity.children}
            report.new.extend(sorted(set(declared or {}) - known))
            if any(outcome == "fatal" for _, outcome in report.missing):
                names = ", ".join(n for n, o in report.missing if o == "fatal")
                report.fatal = f"the loader's query selects fields the API lacks: {names}"
                return report
            body = {
                "query": graphql_query(entity),
                "variables": {"filter": None, "limit": SAMPLE_SIZE, "after": None},
            }
            response = client.post("/v3/graphql", json=body)
            fail_on_status(entity.name, response)
            graphql_errors(entity.name, 1, response)
            records = ((response.json().get("data") or {}).get(entity.graphql_root)) or []
        else:
            response = client.get(entity.rest_path, params={"limit": SAMPLE_SIZE})
            fail_on_status(entity.name, response)
            records = response.json().get("items") or []
    except SourceError as exc:
        report.fatal = str(exc)
        return report
    report.sampled = len(records)
    compare_sample(report, entity, records[:SAMPLE_SIZE], camel_case=api == "graphql", zone=zone)
    return report


def introspect(client: Any) -> tuple[dict[str, dict[str, str]] | None, str]:
    """Root -> fields of the GraphQL schema, or None with the reason the API gave."""
    try:
        response = client.post("/v3/graphql", json={"query": INTROSPECTION})
    except Exception as exc:  # a refused connection is reported per entity just after
        return None, f"introspection failed: {type(exc).__name__}"
    try:
        body = response.json()
    except ValueError:
        body = None
    if (
        response.status_code != 200
        or not isinstance(body, dict)
        or body.get("errors")
        or not body.get("data")
    ):
        return None, f"introspection not answered (HTTP {response.status_code}: {api_message(response)})"
    return schema_fields(body["data"]["__schema"]), "introspection answered"


def check_api(
    base_url: str, token: str, *, zone: str = "Asia/Almaty", ca_bundle: Any = None
) -> tuple[str, list[EntityReport]]:
    """Probe every entity of the contract (loads nothing): (introspection note, reports)."""
    client = make_client(
        base_url, token, ca_bundle=ca_bundle, timeout_s=30.0, max_retries=2, max_retry_delay_s=10
    )
    schema, note = introspect(client)
    return note, [probe_entity(client, entity, schema, zone) for entity in ENTITIES.values()]


def run_check_api(settings: Any, out: Any) -> int:
    """The CLI: print per entity, then one verdict line; exit 1 when anything is lossy or fatal."""
    from pipelines.ingest import api_endpoint

    with api_endpoint(settings) as (base_url, token):
        note, reports = check_api(
            base_url, token, zone=settings.source_timezone, ca_bundle=settings.ca_bundle
        )
    print(f"{base_url}: {note}", file=out)
    for report in reports:
        for line in report.lines():
            print(line, file=out)
    lossless = sum(r.lossless for r in reports)
    clean = sum(r.clean for r in reports)
    print(
        f"{lossless} of {len(reports)} entities load without loss; {clean} match the contract exactly",
        file=out,
    )
    return 0 if lossless == len(reports) else 1
