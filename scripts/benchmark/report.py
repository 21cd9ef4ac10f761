"""The benchmark's results: one ``Line`` per work measured, and the Markdown table for the README
(each line beside its target, its plain-DuckDB and pandas baselines, and their ratios)."""
from __future__ import annotations

from dataclasses import dataclass

from scripts.benchmark.timing import Timing, ms

# work → target (seconds, or None), as issue 5 states them.
TARGETS = {
    "page": 0.040, "admin": 0.040, "search e-mail": 0.060, "search phone": 0.060,
    "search order ID": 0.010, "deep page": 0.060, "apptest": 0.250, "first page": 3.0,
    "export 100k": 6.0, "export 1M": 60.0, "build": 120.0,
    # issue 14: the Refunds register
    "register": 0.060, "register admin": 0.100, "register export": 6.0,
}
MEMORY_TARGETS_MB = {"export 100k": 300, "export 1M": 400}


@dataclass
class Line:
    name: str
    target_key: str | None
    orderdesk: Timing | None = None
    plain: Timing | None = None
    pandas: float | None = None  # median seconds
    note: str = ""
    value: float | None = None  # a single figure (seconds) when there is no Timing
    memory_mb: float | None = None


def ratio(baseline: float | None, ours: float | None) -> str:
    if not baseline or not ours:
        return "—"
    return f"{baseline / ours:,.1f}×"


def target_text(key: str | None) -> str:
    if key is None or key not in TARGETS:
        return "—"
    text = f"≤ {ms(TARGETS[key])}"
    if key in MEMORY_TARGETS_MB:
        text += f", ≤ {MEMORY_TARGETS_MB[key]} MB"
    return text


def markdown(lines: list[Line], header: str) -> str:
    out = [header, "",
           "| work | target | orderdesk median | p95 | CPU | plain DuckDB | × | pandas | × |",
           "|---|---|---|---|---|---|---|---|---|"]
    for line in lines:
        if line.orderdesk is not None:
            ours = line.orderdesk.median
            cells = [ms(ours), ms(line.orderdesk.p95), ms(line.orderdesk.cpu_median)]
        else:
            ours = line.value
            cells = [ms(ours), "—", "—"]
        if line.memory_mb is not None:
            cells[0] += f", {line.memory_mb:,.0f} MB"
        plain = line.plain.median if line.plain else None
        name = line.name + (f" ({line.note})" if line.note else "")
        out.append(f"| {name} | {target_text(line.target_key)} | {' | '.join(cells)} | "
                   f"{ms(plain)} | {ratio(plain, ours)} | {ms(line.pandas)} | "
                   f"{ratio(line.pandas, ours)} |")
    return "\n".join(out)

