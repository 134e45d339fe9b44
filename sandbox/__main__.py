"""Command line of the sandbox: ``python -m sandbox build|serve|ground-truth|advance``.

Why: a data engineer (or the demo) builds a synthetic world, serves it as the goszakup API on
127.0.0.1, advances it to produce changes and deletions, and reads the planted ground truth,
without writing Python. Defaults come from ``pipelines.settings`` (env ``GOSZAKUP_*``).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from pipelines.settings import SANDBOX_TOKEN, get_settings


class CliError(Exception):
    """A failure to report in one line, without a traceback."""


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _int_in(lo: int, hi: int | None = None):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < lo or (hi is not None and value > hi):
            bound = f">= {lo}" if hi is None else f"between {lo} and {hi}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
        return value

    return parse


def _world_module():
    try:
        from sandbox import world
    except ImportError as exc:
        raise CliError(f"the world generator (sandbox/world/) is not available: {exc}") from None
    return world


def _resolve_world(args: argparse.Namespace) -> Path:
    """``--world PATH`` if given (must exist), else the cached world for --seed/--scale."""
    if getattr(args, "world", None):
        path = Path(args.world)
        if not path.is_file():
            raise CliError(f"world file {path} does not exist")
        return path
    world = _world_module()
    return Path(world.ensure_world(get_settings().data_dir, seed=args.seed, scale=args.scale))


def _http(method: str, url: str, token: str) -> Any:
    req = urllib.request.Request(url, method=method, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=600) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:500]
        raise CliError(f"{method} {url} answered {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise CliError(f"cannot reach {url}: {exc}") from None


def cmd_build(args: argparse.Namespace) -> int:
    world = _world_module()
    if args.out:
        path = world.build_world(Path(args.out), seed=args.seed, scale=args.scale, progress=True)
    else:
        path = world.ensure_world(get_settings().data_dir, seed=args.seed, scale=args.scale)
    print(path)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from sandbox.faults import FaultPlan
    from sandbox.server import SandboxServer

    faults = None
    if args.faults:
        try:
            faults = FaultPlan.parse(json.loads(Path(args.faults).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise CliError(f"fault plan {args.faults}: {exc}") from None
    path = _resolve_world(args)
    server = SandboxServer(
        path,
        host=args.host,
        port=args.port,
        token=args.token,
        rate_limit=args.rate_limit,
        max_graphql_limit=args.max_graphql_limit,
        faults=faults,
    )
    try:
        server.start()
    except OSError as exc:
        raise CliError(f"cannot serve on {args.host}:{args.port}: {exc}") from None
    # Ctrl-C and SIGTERM only set a flag, whenever they come (even while the banner prints): a
    # KeyboardInterrupt raised outside the wait would skip the orderly stop of the server.
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    try:
        print(f"sandbox API serving {path}", flush=True)
        print(f"url:   {server.url}", flush=True)
        print(f"token: {server.token}", flush=True)
        print("Ctrl-C to stop", flush=True)
        while not done.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


def cmd_ground_truth(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.url:
        rows = _http("GET", args.url.rstrip("/") + "/_sandbox/ground-truth", args.token)
        out.write_text(json.dumps(rows, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        print(out)
        return 0
    import duckdb

    world = _world_module()
    path = _resolve_world(args)
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        raise CliError(f"cannot open {path} (is a server using it? then pass --url): {exc}") from None
    try:
        print(world.write_ground_truth(con, out))
    finally:
        con.close()
    return 0


def cmd_advance(args: argparse.Namespace) -> int:
    summary = _http("POST", f"{args.url.rstrip('/')}/_sandbox/advance?epochs={args.epochs}", args.token)
    print(json.dumps(summary, ensure_ascii=False, indent=1, default=str))
    return 0


def build_parser() -> argparse.ArgumentParser:
    settings = get_settings()
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Synthetic goszakup world and the sandbox API serving it.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def world_options(p: argparse.ArgumentParser, *, with_path: bool = True) -> None:
        p.add_argument(
            "--seed", type=int, default=settings.sandbox_seed, help="world seed (default %(default)s)"
        )
        p.add_argument(
            "--scale",
            type=_positive_float,
            default=settings.sandbox_scale,
            help="world size; 1 small, 450 national",
        )
        if with_path:
            p.add_argument(
                "--world", help="serve/read this world file instead of the cached one for --seed/--scale"
            )

    p = sub.add_parser("build", help="build (or reuse) a world file")
    world_options(p, with_path=False)
    p.add_argument("--out", help="write the world here (default: the cache under GOSZAKUP_DATA_DIR)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("serve", help="serve a world as the goszakup API until Ctrl-C")
    world_options(p)
    p.add_argument("--host", default=settings.sandbox_host)
    p.add_argument(
        "--port", type=_int_in(0, 65535), default=8765, help="0 picks a free port (default %(default)s)"
    )
    p.add_argument(
        "--rate-limit",
        type=_non_negative_float,
        default=settings.sandbox_rate_limit,
        help="requests/s, 0 none",
    )
    p.add_argument("--max-graphql-limit", type=_int_in(1), default=200)
    p.add_argument("--token", default=SANDBOX_TOKEN)
    p.add_argument("--faults", help="JSON file with a fault plan (list of rules)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("ground-truth", help="write the planted ground truth of a world")
    world_options(p)
    p.add_argument("--out", required=True, help="output file")
    p.add_argument("--url", help="read it from a running sandbox instead of the world file")
    p.add_argument("--token", default=SANDBOX_TOKEN)
    p.set_defaults(func=cmd_ground_truth)

    p = sub.add_parser("advance", help="advance a running sandbox's world (changes, deletions, new records)")
    p.add_argument("--url", required=True, help="base URL of the running sandbox")
    p.add_argument("--epochs", type=_int_in(1), default=1)
    p.add_argument("--token", default=SANDBOX_TOKEN)
    p.set_defaults(func=cmd_advance)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
