"""The load generator's statistics and its printed report.

``Stats`` collects, per kind of interaction, the times from message to script finish, the
server's CPU spent during each (when one session has the server alone) and errors by category;
``report`` turns a run's result into the text printed at the end (the table is Markdown, for
the README).
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (0..1) by linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)



@dataclass
class Stats:
    """Per interaction kind: times, errors by category, the server's CPU spent during each."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    cpu: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    examples: list[str] = field(default_factory=list)

    def record(self, kind: str, seconds: float | None, cpu_seconds: float | None = None) -> None:
        if seconds is not None:
            self.times[kind].append(seconds)
        if cpu_seconds is not None:
            self.cpu[kind].append(cpu_seconds)

    def error(self, kind: str, category: str, detail: str = "") -> None:
        self.errors[kind][category] += 1
        if len(self.examples) < 40:
            self.examples.append(f"{kind}: {category}: {detail}"[:300])

    def error_count(self, category: str | None = None) -> int:
        return sum(n for by_cat in self.errors.values() for cat, n in by_cat.items()
                   if category is None or cat == category)

    def rows(self) -> list[dict]:
        kinds = sorted(set(self.times) | set(self.errors))
        rows = []
        for kind in kinds:
            times = self.times.get(kind, [])
            cpu = self.cpu.get(kind, [])
            rows.append({
                "kind": kind,
                "count": len(times) + sum(self.errors.get(kind, {}).get(c, 0)
                                          for c in ("timeout", "disconnect")),
                "median_s": percentile(times, 0.5),
                "p95_s": percentile(times, 0.95),
                "max_s": max(times) if times else None,
                "cpu_median_ms": (percentile(cpu, 0.5) or 0) * 1000 if cpu else None,
                "errors": dict(self.errors.get(kind, {})),
            })
        return rows


def markdown_table(rows: list[dict]) -> str:
    def sec(value):
        return "—" if value is None else f"{value:.3f}"

    lines = ["| interaction | count | median s | p95 s | max s | server CPU ms (median) | errors |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        errors = ", ".join(f"{k} {v}" for k, v in sorted(row["errors"].items())) or "0"
        cpu = "—" if row["cpu_median_ms"] is None else f"{row['cpu_median_ms']:.0f}"
        lines.append(f"| {row['kind']} | {row['count']} | {sec(row['median_s'])} | "
                     f"{sec(row['p95_s'])} | {sec(row['max_s'])} | {cpu} | {errors} |")
    return "\n".join(lines)



def report(result: dict) -> str:
    def mb(value):
        return "—" if value is None else f"{value / 2**20:,.0f} MB"

    lines = [
        f"{result['sessions']} sessions ({result['active']} active, one interaction every "
        f"{result['interval_s']} s ±50 %), {result['duration_s']:.0f} s, users {', '.join(result['users'])}"
        + (f", server args {' '.join(result['server_args'])}" if result["server_args"] else ""),
        "",
        markdown_table(result["kinds"]),
        "",
        f"- signed in: {result['signed_in']} of {result['sessions']}; interactions: "
        f"{result['interactions']}; errors: {result['errors']} (wrong counts "
        f"{result['wrong_counts']}, lost widget values {result['lost_widget_values']})",
    ]
    if result.get("server_cpu_s") is not None:
        per = result.get("server_cpu_ms_per_interaction")
        lines.append(f"- server CPU: {result['server_cpu_s']:.1f} s; signing in "
                     f"{result.get('server_cpu_sign_in_phase_s', 0):.1f} s "
                     f"({result['sign_in_phase_s']:.0f} s); the mix "
                     f"{result.get('server_cpu_mix_s', 0):.1f} s"
                     + (f", {per:.0f} ms per interaction of the mix" if per else ""))
    lines.append(f"- server RSS: start {mb(result['rss_start'])}, all signed in "
                 f"{mb(result.get('rss_signed_in'))}, peak {mb(result['rss_peak'])}, "
                 f"end {mb(result['rss_end'])}, 2 s after all disconnect "
                 f"{mb(result.get('rss_after_disconnect_2s'))}")
    if (refunds := result.get("refunds")) is not None:
        lines.append(f"- refunds: {refunds['confirmed']} confirmed on screen; in the database "
                     + ("each exactly once, none beyond the captured amount" if not refunds["problems"]
                        else "; ".join(refunds["problems"][:5])))
    lines.append("- load average before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
        *result["load_before"], *result["load_after"]))
    if result["error_examples"]:
        lines += ["", "First errors:"] + [f"- {e}" for e in result["error_examples"][:15]]
    return "\n".join(lines)
