"""The sandbox: a local emulation of the goszakup API over a deterministic synthetic world.

``world`` generates the world (a DuckDB file), plants the risk patterns with their ground truth
and applies epochs of change; ``patterns`` holds the patterns' thresholds and reference rules; the
server (``server``) serves the world over HTTP.
"""

from sandbox.world import (
    advance_world,
    build_world,
    ensure_world,
    ground_truth,
    write_ground_truth,
)

__all__ = ["advance_world", "build_world", "ensure_world", "ground_truth", "write_ground_truth"]
