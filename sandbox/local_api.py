"""The sandbox as the pipeline's embedded default API, found through an entry point.

The pipeline never imports this package: when no API is configured it looks up the
``goszakup.local_api`` entry point (declared in ``pyproject.toml``) and calls ``start``. That keeps
the production package free of test doubles while ``make run`` still works on a fresh machine.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from sandbox.server import run_sandbox
from sandbox.world import EPOCH_BASE, ensure_world


@contextlib.contextmanager
def start(
    data_dir: Path,
    *,
    seed: int,
    scale: float,
    host: str = "127.0.0.1",
    port: int = 0,
    rate_limit: float = 0.0,
) -> Iterator[tuple[str, str]]:
    """Serve the ``(seed, scale)`` world for the ``with`` block; yields ``(base_url, token)``."""
    world = ensure_world(data_dir, seed=seed, scale=scale)
    with run_sandbox(world, host=host, port=port, rate_limit=rate_limit) as server:
        yield server.url, server.token


def journal_start() -> dt.date:
    """The first day of the sandbox's change journal (a full load reads it from there)."""
    return EPOCH_BASE.date()
