"""How the benchmark times things and runs its child processes.

``timed`` runs a callable after a warm-up and keeps each run's wall-clock and CPU seconds;
``child`` runs ``scripts/bench.py --child MODE`` in a fresh process (whose memory is then the
measured work's alone) and reads the JSON of its last line.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.settings import DEFAULT_TZ

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "bench.py"
TZ_NAME = DEFAULT_TZ  # the app's default zone: the server and every query of the run use it


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def process_peak_rss_mb(pid: int | str) -> float | None:
    """A process's peak resident memory (VmHWM), or None when /proc cannot tell."""
    with contextlib.suppress(OSError):
        status = Path(f"/proc/{pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+)", status)[1]) / 1024
    return None


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not getrusage's ru_maxrss: a child forked
    from a large parent would report the parent's size (Linux keeps maxrss across exec)."""
    peak = process_peak_rss_mb("self")
    if peak is not None:
        return peak
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


@dataclass
class Timing:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def p95(self) -> float:
        return p95(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) if self.cpu else float("nan")


def timed(run, repeat: int, warm_up: int = 1) -> Timing:
    for _ in range(warm_up):
        run()
    timing = Timing()
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        timing.cpu.append(time.process_time() - cpu)
        timing.wall.append(time.perf_counter() - wall)
    return timing


def ms(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "—"
    if seconds >= 10:
        return f"{seconds:,.1f} s"
    if seconds >= 1:
        return f"{seconds:,.2f} s"
    return f"{seconds * 1000:,.1f} ms"


def child(mode: str, payload: dict, timeout: float = 3600) -> dict:
    """Run this script in ``--child MODE`` in a fresh process; its last stdout line is JSON."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--child", mode, json.dumps(payload, default=str)],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"child {mode} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
