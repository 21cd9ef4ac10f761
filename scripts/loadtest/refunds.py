"""Refunds in the load: what the sessions did, and the database's account of it afterwards.

A refunder (or admin) session that opened a Completed order with at least ``MIN_REFUNDABLE`` left
refunds ``AMOUNT`` of it through the real dialog ("Process a refund" → "Enter manually" → amount
and reason → "Complete a refund"). The small amount keeps the order Completed, so the oracle's
counts by status stay true. Every refund the page confirmed is written in the ``Ledger`` with its
refund ID; once the server has stopped, ``verify`` reads the database copy: each confirmed
refund must be there exactly once, nothing refunded that no page confirmed, and no order refunded
beyond its captured amount.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

AMOUNT = Decimal("0.01")
MIN_REFUNDABLE = Decimal("1.00")
REASON = "load test refund"
CONFIRMED = re.compile(r"Refund of \*\*([0-9.,]+)\*\* completed")
REFUND_ID = re.compile(r"Refund ID: \*\*R-(\d+)\*\*")


def amount_shown(text: str) -> Decimal:
    """An amount as the page writes it ('1,234.50') as a Decimal."""
    return Decimal(text.replace(",", ""))


@dataclass
class Ledger:
    """The refunds the pages confirmed: order ID → event IDs (the number in "R-…")."""

    confirmed: dict[int, list[int]] = field(default_factory=dict)

    def add(self, order_id: int, event_id: int) -> None:
        self.confirmed.setdefault(order_id, []).append(event_id)

    @property
    def count(self) -> int:
        return sum(len(ids) for ids in self.confirmed.values())


def verify(db_path: Path, ledger: Ledger) -> list[str]:
    """The differences between what the pages confirmed and what the database holds."""
    import duckdb

    problems: list[str] = []
    with duckdb.connect(str(db_path), read_only=True) as con:
        stored = con.execute(
            "SELECT event_id, order_id, amount FROM order_events WHERE kind = 'refund' AND reason = ?",
            [REASON]).fetchall()
        over = con.execute(
            "SELECT count(*) FROM orders WHERE refunded_amount > amount").fetchone()[0]
    by_event = {event_id: (order_id, amount) for event_id, order_id, amount in stored}
    confirmed = Counter(event_id for ids in ledger.confirmed.values() for event_id in ids)
    for event_id, times in confirmed.items():
        if times > 1:
            problems.append(f"refund R-{event_id} confirmed {times} times")
    for order_id, ids in ledger.confirmed.items():
        for event_id in ids:
            if event_id not in by_event:
                problems.append(f"refund R-{event_id} of order {order_id} confirmed but not stored")
            elif by_event[event_id] != (order_id, AMOUNT):
                problems.append(f"refund R-{event_id} stored as {by_event[event_id]}, "
                                f"confirmed as ({order_id}, {AMOUNT})")
    for event_id in sorted(set(by_event) - set(confirmed)):
        problems.append(f"refund R-{event_id} stored but never confirmed to its user")
    if over:
        problems.append(f"{over} orders refunded beyond their captured amount")
    return problems
