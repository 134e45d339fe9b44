"""Command line: ``python -m publish build|verify|list|recompute-flags``.

Why: the same code the Dagster publish asset calls, usable by hand and by auditors (``verify`` needs
only the downloaded folder).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def _read_json(path: str | None) -> dict | None:
    return json.loads(Path(path).read_text(encoding="utf-8")) if path else None


def _settings():
    """The pipeline's settings, for the defaults of the CLI's arguments only.

    ``publish/`` itself takes everything as arguments (:class:`publish.options.PublishOptions`);
    only this command line, run by hand next to the pipeline, falls back to its configuration
    (``GOSZAKUP_*``) for the warehouse, the publish root and the options.
    """
    from pipelines.settings import get_settings

    return get_settings()


def _cmd_build(args: argparse.Namespace) -> int:
    from publish.snapshot import publish_version

    settings = _settings()
    manifest = (
        Path(args.dbt_manifest)
        if args.dbt_manifest
        else Path(__file__).resolve().parent.parent / "dbt_project/target/manifest.json"
    )
    checks = _read_json(args.checks_summary) or {}
    passed = args.checks_passed
    if passed is None:
        passed = bool(checks.get("success", checks.get("passed", False)))
        if not checks:
            print("no --checks-passed and no --checks-summary: publishing as a FAILED build", file=sys.stderr)
    result = publish_version(
        Path(args.warehouse) if args.warehouse else settings.warehouse_path,
        Path(args.root) if args.root else settings.publish_root,
        checks_passed=passed,
        checks_summary=checks,
        dbt_summary=_read_json(args.dbt_summary),
        source=_read_json(args.source),
        dbt_manifest=manifest if manifest.is_file() else None,
        schemas=[s.strip() for s in args.schemas.split(",") if s.strip()],
        options=settings.publish_options(),
    )
    print(result.reason)
    print(
        json.dumps(
            {
                "version": result.version,
                "path": str(result.path),
                "published": result.published,
                "latest_moved": result.latest_moved,
                "files": result.files,
                "rows": result.rows,
            },
            indent=2,
        )
    )
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from publish.verify import verify_version

    problems = verify_version(Path(args.version_dir))
    if problems:
        for line in problems:
            print(line)
        return 1
    print("OK")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from publish.versions import load_index

    root = Path(args.root) if args.root else _settings().publish_root
    index = load_index(root)
    if not index["versions"]:
        print(f"no versions in {root}")
        return 0
    for e in sorted(index["versions"], key=lambda e: (e["created"], e["version"])):
        mark = "*" if e["version"] == index.get("latest") and e["checks_passed"] else " "
        status = "passed" if e["checks_passed"] else "FAILED"
        print(f"{mark} {e['version']:<22} {e['semver']:<14} {e['created']}  {status:<6}  {e['path']}")
    print(f"latest: {index.get('latest')}")
    return 0


def _cmd_recompute_flags(args: argparse.Namespace) -> int:
    from publish.recompute import recompute_flags

    path = Path(args.version)
    if not path.is_dir():
        path = (Path(args.root) if args.root else _settings().publish_root) / args.version
    if not (path / "manifest.json").is_file():
        print(f"{args.version}: no version folder with a manifest.json (looked at {path})", file=sys.stderr)
        return 2
    result = recompute_flags(path)
    for line in result.lines():
        print(line)
    print("identical" if result.identical else "the recomputed flags differ from the published ones")
    return 0 if result.identical else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m publish", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="publish a new version from the warehouse")
    b.add_argument("--warehouse", help="DuckDB file (default: settings.warehouse_path)")
    b.add_argument("--root", help="publish root (default: settings.publish_root)")
    b.add_argument("--schemas", default="ocds,risk,quarantine")
    b.add_argument(
        "--dbt-manifest", help="dbt target/manifest.json (default: dbt_project/target/manifest.json)"
    )
    g = b.add_mutually_exclusive_group()
    g.add_argument(
        "--checks-passed",
        dest="checks_passed",
        action="store_true",
        default=None,
        help="every error-level check passed: the version may become latest",
    )
    g.add_argument("--checks-failed", dest="checks_passed", action="store_false")
    b.add_argument(
        "--checks-summary", help="JSON file with the checks summary (its 'success' decides if no flag)"
    )
    b.add_argument("--dbt-summary", help="JSON file with the dbt run/test summary")
    b.add_argument("--source", help="JSON file describing the source (extraction window, API base URL)")
    b.set_defaults(func=_cmd_build)

    v = sub.add_parser("verify", help="check a version folder against its hashes and schemas")
    v.add_argument("version_dir")
    v.set_defaults(func=_cmd_verify)

    ls = sub.add_parser("list", help="list published versions (* = latest)")
    ls.add_argument("--root", help="publish root (default: settings.publish_root)")
    ls.set_defaults(func=_cmd_list)

    r = sub.add_parser(
        "recompute-flags", help="rebuild a version's risk tables from its own files and compare them"
    )
    r.add_argument("version", help="version folder, or version name under --root")
    r.add_argument("--root", help="publish root (default: settings.publish_root)")
    r.set_defaults(func=_cmd_recompute_flags)

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
