"""An import's writes at a share of the time, so that a large one leaves the CPU to analysts.

Writing a million orders into PostgreSQL is one backend's index upkeep for most of two minutes
(docs/stack-facts.md, PostgreSQL): on a machine it shares with the app, every page waits behind
it. Paced, the merge writes its orders and lines in slices of ``SLICE_ROWS`` rows, in key order,
and after each slice pauses for as long as the share asks (at 0.5, as long as the slice took);
PostgreSQL's autovacuum paces itself the same way (``autovacuum_vacuum_cost_delay``). The slices
stay in the import's one transaction: the import is all or nothing as ever, only longer.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

SLICE_ROWS = 2_000
"""Rows per slice: about 0.2 s of writing into PostgreSQL with every index of the orders, short
beside a page's wait, long beside the 1 ms a statement costs."""

MIN_SHARE = 0.05


@dataclass(frozen=True)
class Pace:
    """The share of the time the writes may take (``MIN_SHARE``–1; 1: no pause, one statement)."""

    share: float = 1.0
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        if not MIN_SHARE <= self.share <= 1:
            raise ValueError(f"a pace is a share of the time from {MIN_SHARE} to 1, "
                             f"not {self.share}")

    @property
    def sliced(self) -> bool:
        return self.share < 1

    def pause_after(self, seconds: float) -> None:
        """Wait so that ``seconds`` of writing is ``share`` of the time spent."""
        if self.sliced:
            self.sleep(seconds * (1 - self.share) / self.share)


FULL_SPEED = Pace()
