"""The sandbox: a local emulation of the goszakup API over a deterministic synthetic world.

``world`` generates the world (a DuckDB file) and its epochs of change; ``patterns`` plants the
risk patterns and their ground truth; the server (``server``) serves the world over HTTP.
"""

from sandbox.world import (
    advance_world,
    build_world,
    ensure_world,
    ground_truth,
    write_ground_truth,
)

__all__ = ["advance_world", "build_world", "ensure_world", "ground_truth", "write_ground_truth"]
