"""The sandbox API as a separate process, and how busy it was during a load."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from pipelines.settings import SANDBOX_TOKEN
from tools.bench.measure import PYTHON, BenchError, _child_env, _proc_times

# --- the sandbox as a separate process -----------------------------------------------------------


class SandboxProcess:
    """``python -m sandbox serve`` over a world file, on a free port of 127.0.0.1."""

    def __init__(self, world: Path, rate_limit: float, logs: Path) -> None:
        self.world, self.rate_limit, self.logs = world, rate_limit, logs
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> SandboxProcess:
        self.logs.mkdir(parents=True, exist_ok=True)
        cmd = [PYTHON, "-m", "sandbox", "serve", "--world", str(self.world), "--host", "127.0.0.1"]
        cmd += ["--port", "0", "--rate-limit", str(self.rate_limit)]
        self._err = open(self.logs / "sandbox.err", "wb")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=self._err, env=_child_env(), text=True
        )
        deadline = time.monotonic() + 600
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("url:"):
                self.url = line.split(None, 1)[1].strip()
                break
            if time.monotonic() > deadline:
                break
        if not self.url:
            self.__exit__()
            raise BenchError(f"the sandbox did not start; see {self.logs / 'sandbox.err'}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._err.close()

    def call(self, method: str, path: str) -> Any:
        req = urllib.request.Request(
            self.url + path, method=method, headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"}
        )
        with urllib.request.urlopen(req, timeout=3600) as resp:
            return json.loads(resp.read())

    def usage(self, *, open_window: bool = False) -> dict[str, Any]:
        """The server's counters plus its process's CPU seconds and peak memory so far.

        ``open_window``: start a new span of ``api_window_s`` (first request to last answer).
        """
        stats = self.call("POST" if open_window else "GET", "/_sandbox/stats")
        assert self.proc is not None
        stats["cpu_s"], stats["peak_mib"] = _proc_times(self.proc.pid)
        return stats


def api_usage(
    before: dict[str, Any], after: dict[str, Any], wall_s: float, rate_limit: float
) -> dict[str, Any]:
    """How busy the API was during one load (differences of the sandbox's counters).

    ``requests`` are the answered ones (a 429 is counted apart), so ``use_of_limit_pct`` is the
    share of the rate limit the load turned into answers while it talked to the API (from its
    first request to its last answer, ``api_window_s``, when ``before`` opened a window; else over
    the whole wall time, start-up and post-processing included).
    """
    rejected = after["rate_limited"] - before["rate_limited"]
    served = after["requests"] - before["requests"] - rejected
    busy = after.get("api_busy_s", 0.0) - before.get("api_busy_s", 0.0)
    area = after.get("api_inflight_area_s", 0.0) - before.get("api_inflight_area_s", 0.0)
    rps = served / wall_s if wall_s else 0.0
    window = after.get("api_window_s") or 0.0
    window_rps = served / window if window else rps
    return {
        "requests": served,
        "api_window_s": round(window, 1),
        "rejected_429": rejected,
        "requests_per_s": round(rps, 1),
        "rate_limit": rate_limit,
        "use_of_limit_pct": round(100 * window_rps / rate_limit, 1) if rate_limit else None,
        "busy_pct": round(100 * busy / wall_s, 1) if wall_s else None,
        "mean_in_flight": round(area / wall_s, 2) if wall_s else None,
        "max_in_flight": after.get("api_inflight_max"),
        "sandbox_cpu_s": round(after["cpu_s"] - before["cpu_s"], 1),
        "sandbox_peak_mib": round(after["peak_mib"], 1),
    }
