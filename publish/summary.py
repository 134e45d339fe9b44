"""A short human summary of a version: ``summary.md`` and ``summary.html`` with PNG charts.

Why: most people would rather look than read a table. The charts are drawn from the version's own
Parquet files (so the summary shows exactly what was published) with matplotlib's Agg backend and
without a ``Software`` / date stamp, so the same data give the same PNG bytes.

Each chart looks for its source table and columns; when they are missing (the risk marts come later),
the chart is left out with a note saying what it needs. Charts:

* single-source share by year and by region: ``risk.headline_metrics(year, region,
  single_source_share_count)`` (mean over rows; only the ``national`` / ``region`` rows when it has
  a ``level`` column), else ``ocds.tenders`` with a procurement-method column
  (``direct`` = single source) and a year or date column (and a region column if any);
* flag counts: ``risk.process_flags(flag_code[, status])``;
* top buyers by risk score: ``risk.buyer_scores(buyer_id, score[, buyer_name|name])``.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from pipelines.sql import quote_identifier as quote

CHART_DIR = "summary"
TOP_BUYERS = 15


def _connect_version(version_dir: Path) -> duckdb.DuckDBPyConnection:
    """In-memory DuckDB with one view per published Parquet file (``<schema>.<table>``)."""
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    for pq in sorted(version_dir.glob("*/*.parquet")):
        schema, table = pq.parent.name, pq.stem
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
        path = str(pq).replace("'", "''")
        con.execute(f"CREATE VIEW {quote(schema)}.{quote(table)} AS SELECT * FROM read_parquet('{path}')")
    return con


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchall()
    return {n.lower(): t for n, t in rows}


def _pick(cols: dict[str, str], *patterns: str, exclude: tuple[str, ...] = ()) -> str | None:
    for p in patterns:
        for c in cols:
            if p in c and not any(x in c for x in exclude):
                return c
    return None


def _year_expr(cols: dict[str, str]) -> str | None:
    if "year" in cols:
        return quote("year")
    for c, t in cols.items():
        if "date" in c or "start" in c:
            tu = t.upper()
            if tu.startswith(("TIMESTAMP", "DATE")):
                return f"year({quote(c)})"
            if tu == "VARCHAR":
                return f"try_cast(substr({quote(c)}, 1, 4) AS INTEGER)"
    return None


# --- chart queries: each returns (title, rows, note) ------------------------------------------


def _single_source(con: duckdb.DuckDBPyConnection) -> list[tuple[str, list[tuple], str]]:
    out = []
    hm = _columns(con, "risk", "headline_metrics")
    if {"year", "single_source_share_count"} <= hm.keys():
        share = quote("single_source_share_count")

        def level(name: str) -> str:
            # the marts hold national, region and buyer rows side by side: chart one level
            return f" AND level = '{name}'" if "level" in hm else ""

        out.append(
            (
                "Single-source share by year (risk.headline_metrics, mean of rows)",
                con.execute(
                    f"SELECT CAST(year AS VARCHAR), avg({share}) FROM risk.headline_metrics "
                    f"WHERE year IS NOT NULL{level('national')} GROUP BY 1 ORDER BY 1"
                ).fetchall(),
                "",
            )
        )
        if "region" in hm:
            out.append(
                (
                    "Single-source share by region (risk.headline_metrics, mean of rows)",
                    con.execute(
                        f"SELECT coalesce(CAST(region AS VARCHAR), '(none)'), avg({share}) "
                        f"FROM risk.headline_metrics WHERE true{level('region')} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 25"
                    ).fetchall(),
                    "",
                )
            )
        return out
    tc = _columns(con, "ocds", "tenders")
    method = _pick(tc, "procurement_method", "procurementmethod", exclude=("detail", "rationale"))
    year = _year_expr(tc)
    if method and year:
        is_direct = f"avg(CASE WHEN lower(CAST({quote(method)} AS VARCHAR)) = 'direct' THEN 1.0 ELSE 0.0 END)"
        out.append(
            (
                f"Single-source (direct) share of tenders by year (ocds.tenders.{method})",
                con.execute(
                    f"SELECT CAST({year} AS VARCHAR) y, {is_direct} FROM ocds.tenders "
                    "WHERE y IS NOT NULL GROUP BY 1 ORDER BY 1"
                ).fetchall(),
                "",
            )
        )
        region = _pick(tc, "region")
        if region:
            out.append(
                (
                    f"Single-source (direct) share of tenders by region (ocds.tenders.{region})",
                    con.execute(
                        f"SELECT coalesce(CAST({quote(region)} AS VARCHAR), '(none)'), {is_direct} "
                        "FROM ocds.tenders GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 25"
                    ).fetchall(),
                    "",
                )
            )
        return out
    return [
        (
            "Single-source share by year and region",
            [],
            "left out: needs risk.headline_metrics(year, region, single_source_share_count) or "
            "ocds.tenders with a procurement method and a date column",
        )
    ]


def _flags(con: duckdb.DuckDBPyConnection) -> list[tuple[str, list[tuple], str]]:
    fc = _columns(con, "risk", "process_flags")
    if "flag_code" not in fc:
        return [("Flag counts", [], "left out: needs risk.process_flags(flag_code, status)")]
    status = "coalesce(CAST(status AS VARCHAR), '(none)')" if "status" in fc else "'all'"
    rows = con.execute(
        f"SELECT CAST(flag_code AS VARCHAR), {status}, count(*) FROM risk.process_flags GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()
    return [("Flag counts by flag code and status (risk.process_flags)", rows, "")]


def _top_buyers(con: duckdb.DuckDBPyConnection) -> list[tuple[str, list[tuple], str]]:
    bc = _columns(con, "risk", "buyer_scores")
    score = "score" if "score" in bc else _pick(bc, "score")
    if "buyer_id" not in bc or not score:
        return [("Top buyers by risk score", [], "left out: needs risk.buyer_scores(buyer_id, score)")]
    label = _pick(bc, "buyer_name", "name_ru", "name")
    lab = (
        f"coalesce(CAST({quote(label)} AS VARCHAR), CAST(buyer_id AS VARCHAR))"
        if label
        else "CAST(buyer_id AS VARCHAR)"
    )
    rows = con.execute(
        f"SELECT {lab}, {quote(score)} FROM risk.buyer_scores WHERE {quote(score)} IS NOT NULL "
        f"ORDER BY {quote(score)} DESC, CAST(buyer_id AS VARCHAR) LIMIT {TOP_BUYERS}"
    ).fetchall()
    return [(f"Top {TOP_BUYERS} buyers by risk score (risk.buyer_scores.{score})", rows, "")]


# --- drawing ----------------------------------------------------------------------------------


def _bar_png(
    path: Path, title: str, rows: list[tuple], *, horizontal: bool = False, stacked: bool = False
) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.5 if not horizontal else max(3.0, 0.35 * len(rows) + 1.2)), dpi=100)
    ax = fig.subplots()
    if stacked:
        codes = sorted({r[0] for r in rows})
        statuses = sorted({r[1] for r in rows})
        bottom = [0.0] * len(codes)
        for s in statuses:
            vals = [float(next((r[2] for r in rows if r[0] == c and r[1] == s), 0)) for c in codes]
            ax.bar(codes, vals, bottom=bottom, label=s)
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
        ax.legend(fontsize=8)
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    elif horizontal:
        labels = [str(r[0])[:50] for r in rows][::-1]
        ax.barh(labels, [float(r[1]) for r in rows][::-1])
        ax.tick_params(axis="y", labelsize=8)
    else:
        ax.bar([str(r[0]) for r in rows], [float(r[1] or 0) for r in rows])
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, format="png", metadata={"Software": None})


def write_summary(version_dir: Path, meta: dict[str, Any]) -> list[Path]:
    """Write ``summary.md``, ``summary.html`` and ``summary/*.png`` into ``version_dir``."""
    con = _connect_version(version_dir)
    charts: list[tuple[str, str | None, str]] = []  # (title, png relpath, note)
    specs: list[tuple[str, Callable, dict]] = [
        ("single_source", _single_source, {}),
        ("flags", _flags, {"stacked": True}),
        ("top_buyers", _top_buyers, {"horizontal": True}),
    ]
    written: list[Path] = []
    try:
        for stem, fn, opts in specs:
            for i, (title, rows, note) in enumerate(fn(con)):
                if note or not rows:
                    charts.append((title, None, note or "left out: the source table is empty"))
                    continue
                rel = f"{CHART_DIR}/{stem}_{i}.png"
                (version_dir / CHART_DIR).mkdir(exist_ok=True)
                is_region = "region" in title
                _bar_png(
                    version_dir / rel,
                    title,
                    rows,
                    horizontal=opts.get("horizontal", False) or is_region,
                    stacked=opts.get("stacked", False),
                )
                written.append(version_dir / rel)
                charts.append((title, rel, ""))
    finally:
        con.close()

    status = "PASSED" if meta["checks_passed"] else "FAILED (not citable; `latest` does not point here)"
    ch = meta["changes"]
    md = [
        f"# goszakup open data — version `{meta['version']}` ({meta['semver']})",
        "",
        f"- Built: {meta['created']}",
        f"- Error-level checks: {status}",
        f"- Compared with: `{ch.get('previous_version')}`"
        if ch.get("previous_version")
        else "- First version",
        "- Verify: `python -m publish verify <this folder>`; checksums in `SHA256SUMS` and `datapackage.json`.",
        "",
        "## Tables",
        "",
        "| table | rows | added | changed | removed |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, n in meta["rows"].items():
        c = ch["tables"].get(name, {"added": 0, "changed": 0, "removed": 0})
        md.append(f"| {name} | {n} | {c['added']} | {c['changed']} | {c['removed']} |")
    for kind in ("breaking", "additive", "metadata"):
        for item in ch["schema"].get(kind, []):
            md.append(f"\n- schema ({kind}): {item}")
    md += ["", "## Charts", ""]
    for title, rel, note in charts:
        md += [f"### {title}", "", f"![{title}]({rel})" if rel else f"_{note}_", ""]
    (version_dir / "summary.md").write_text("\n".join(md) + "\n", encoding="utf-8")

    e = html.escape
    rows_html = "".join(
        f"<tr><td>{e(name)}</td><td>{n}</td>"
        + "".join(f"<td>{ch['tables'].get(name, {}).get(k, 0)}</td>" for k in ("added", "changed", "removed"))
        + "</tr>"
        for name, n in meta["rows"].items()
    )
    charts_html = "".join(
        f"<h3>{e(t)}</h3>" + (f'<img src="{e(r)}" alt="{e(t)}">' if r else f"<p><em>{e(n)}</em></p>")
        for t, r, n in charts
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>goszakup open data {e(meta["version"])}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:right}}td:first-child{{text-align:left}}
img{{max-width:100%}}</style></head><body>
<h1>goszakup open data — version <code>{e(meta["version"])}</code> ({e(meta["semver"])})</h1>
<p>Built {e(meta["created"])}. Error-level checks: <strong>{e(status)}</strong>.</p>
<h2>Tables</h2><table><tr><th>table</th><th>rows</th><th>added</th><th>changed</th><th>removed</th></tr>{rows_html}</table>
<h2>Charts</h2>{charts_html}
</body></html>
"""
    (version_dir / "summary.html").write_text(page, encoding="utf-8")
    return [version_dir / "summary.md", version_dir / "summary.html", *written]
