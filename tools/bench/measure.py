"""Stage names, goals, and running one stage in a child process with its wall time, CPU and peak memory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

STAGES = ("world", "ingest", "dbt", "checks", "publish", "daily")
NATIONAL_SCALE = 450
#: The goals of issue 8 (national year, 2 cores).
GOAL_TOTAL_S = 15 * 60
GOAL_PEAK_MIB = 6 * 1024
GOAL_RATIO = 3.0
GOAL_DAILY_S = 2 * 60
PYTHON = sys.executable
DBT = str(Path(sys.executable).with_name("dbt"))


class BenchError(RuntimeError):
    """A stage failed; the message names it and ends with the tail of its log."""


# --- measuring child processes ------------------------------------------------------------------


@dataclass
class Measured:
    wall_s: float
    cpu_s: float
    peak_mib: float
    stdout: str = ""


#: A stage whose resident memory passes this is stopped (``--max-memory-gib``): on a machine shared
#: with other work a runaway stage must fail alone, not take the machine down with it.
MAX_MEMORY_MIB = [0.0]


def _rss_mib(pid: int) -> float:
    try:
        match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return 0.0
    return int(match.group(1)) / 1024 if match else 0.0


def run_measured(name: str, cmd: Sequence[str], *, env: dict[str, str], cwd: Path, logs: Path) -> Measured:
    """Run ``cmd`` to completion; wall, CPU (user + system) and peak RSS of that child alone."""
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / f"{name}.out", logs / f"{name}.err"
    limit = MAX_MEMORY_MIB[0]
    stopped = False
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.monotonic()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, env=env, cwd=cwd)
        try:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if limit and not stopped and _rss_mib(proc.pid) > limit:
                    proc.kill()
                    stopped = True
                time.sleep(0.2)
        except BaseException:  # Ctrl-C: the stage does not outlive the benchmark
            proc.kill()
            proc.wait()
            raise
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_text(encoding="utf-8", errors="replace")
    # ru_maxrss is in KiB on Linux
    measured = Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stdout)
    if stopped:
        raise StageFailed(
            name, measured, f"stopped at {limit / 1024:.1f} GiB of resident memory (--max-memory-gib)"
        )
    if proc.returncode != 0:
        tail = (err_path.read_text(encoding="utf-8", errors="replace") + stdout)[-3000:]
        why = "killed by signal 9 (out of memory?)" if proc.returncode == -9 else f"exit {proc.returncode}"
        raise StageFailed(name, measured, f"{why}; logs in {logs}", tail)
    return measured


class StageFailed(BenchError):
    """A stage's process failed or was stopped; what it used until then is kept for the report."""

    def __init__(self, name: str, measured: Measured, why: str, tail: str = "") -> None:
        super().__init__(f"{name}: {why}" + (f"\n{tail}" if tail else ""))
        self.name, self.measured, self.why = name, measured, why


def _child_env(**extra: str) -> dict[str, str]:
    """The parent's environment without GOSZAKUP_* (stages get exactly the settings given here)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOSZAKUP_")}
    env.update(DBT_SEND_ANONYMOUS_USAGE_STATS="false", GX_ANALYTICS_ENABLED="false", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def _proc_times(pid: int) -> tuple[float, float]:
    """(CPU seconds, peak RSS MiB) of a running process, from /proc (0 where unavailable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        status = Path(f"/proc/{pid}/status").read_text()
        hwm = re.search(r"VmHWM:\s+(\d+) kB", status)
        return cpu, int(hwm.group(1)) / 1024 if hwm else 0.0
    except (OSError, ValueError, IndexError):
        return 0.0, 0.0
