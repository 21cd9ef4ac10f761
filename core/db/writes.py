"""The SQL of cancels and refunds: their guarded writes, and the results stored under a form's
idempotency key. ``core.actions`` decides (with ``core.rules``) and retries; this module writes
and reads back, nothing else.

Each write is one transaction whose conditional UPDATE restates the status machine
(``core.status``): a refund only from the statuses a refund is allowed from, never above the
amount, leading to Return when the last cent is refunded; a cancel only from the statuses a cancel
is allowed from, with nothing refunded. DuckDB gives each transaction a snapshot, so the check has
to be in the write itself (docs/stack-facts.md, DuckDB). On PostgreSQL the same statements hold
across processes: at READ COMMITTED an UPDATE that waited for another transaction's lock on the
order re-checks its WHERE on the row as that one committed it (docs/stack-facts.md, PostgreSQL).
A guard that matches no row raises ``GuardMissed``, which rolls everything back.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING

from core.db.schema import sql_list
from core.db.written import rows_written
from core.status import Action, Status, action_starts

if TYPE_CHECKING:  # core.db imports nothing of this module; the name is for the signatures
    from core.db import Database


class GuardMissed(Exception):
    """A conditional write matched no row: the order changed since it was read."""


@dataclass(frozen=True)
class EventRow:
    """What a cancel or a refund appends to ``order_events``."""

    order_id: int
    kind: Action
    amount: Decimal
    items: list[dict] | None  # the refunded lines (``RefundPlan.items``), None for none
    reason: str | None
    username: str
    idempotency_key: str
    reason_code: str | None = None  # a refund's reason (``core.refunds.REASONS``)


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored, with its order's status and refunded amount after it."""

    event_id: int
    order_id: int
    kind: str
    amount: Decimal
    status: str
    refunded_amount: Decimal


# The guards, in the machine's words. The refund's CASE leads to Return, the status that is
# fully refunded (``core.status.ALL_REFUNDED``), on the last cent; else the status stays.
_REFUND_ORDER = (
    "UPDATE orders SET refunded_amount = refunded_amount + ?, "
    f"status = CASE WHEN refunded_amount + ? = amount THEN '{Status.RETURN}' ELSE status END "
    f"WHERE order_id = ? AND status IN {sql_list(action_starts(Action.REFUND))} "
    "AND refunded_amount + ? <= amount"
)
_REFUND_LINE = (
    "UPDATE order_items SET refunded_quantity = refunded_quantity + ? "
    "WHERE order_id = ? AND line_no = ? AND refunded_quantity + ? <= quantity"
)
_CANCEL_ORDER = (
    f"UPDATE orders SET status = '{Status.CANCEL}' "
    f"WHERE order_id = ? AND status IN {sql_list(action_starts(Action.CANCEL))} "
    "AND refunded_amount = 0"
)
_INSERT_EVENT = (
    "INSERT INTO order_events (order_id, kind, amount, items, reason, username, created_at, "
    "idempotency_key, reason_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING event_id"
)


def write_refund(database: Database, event: EventRow, quantities: dict[int, int],
                 between_writes: Callable[[], None]) -> StoredEvent:
    """Add ``event.amount`` to the order's refunded amount and ``quantities`` (``{line_no:
    qty}``) to its lines' refunded quantities, and append the event; ``GuardMissed`` when the
    order or a line no longer allows it. ``between_writes`` runs after the order's update."""
    with database.transaction() as cur:
        # The order first: DuckDB checks foreign keys eagerly, and an event row inserted before
        # its order's update raised a false violation (docs/stack-facts.md, DuckDB). No RETURNING
        # here either: on a table that other tables reference it turns the update into a false FK
        # violation too.
        amount = event.amount
        _expect_one_row(cur.execute(_REFUND_ORDER, [amount, amount, event.order_id, amount]))
        between_writes()
        for line_no, qty in quantities.items():
            _expect_one_row(cur.execute(_REFUND_LINE, [qty, event.order_id, line_no, qty]))
        event_id = _insert_event(cur, event)
        status, refunded = cur.execute(
            "SELECT status, refunded_amount FROM orders WHERE order_id = ?", [event.order_id]
        ).fetchone()
    return StoredEvent(event_id, event.order_id, event.kind, amount, status, refunded)


def write_cancel(database: Database, event: EventRow,
                 between_writes: Callable[[], None]) -> StoredEvent:
    """Set the order to Cancel and append the event; ``GuardMissed`` when it is no longer
    allowed. ``between_writes`` runs after the order's update."""
    with database.transaction() as cur:
        _expect_one_row(cur.execute(_CANCEL_ORDER, [event.order_id]))
        between_writes()
        event_id = _insert_event(cur, event)
    # The guard matched an order with nothing refunded, which the cancel left so.
    return StoredEvent(event_id, event.order_id, event.kind, event.amount, Status.CANCEL,
                       Decimal("0.00"))


def fetch_stored_event(database: Database, idempotency_key: str) -> StoredEvent | None:
    """The event stored under ``idempotency_key``, with its order's figures now, or None."""
    with database.cursor() as cur:
        row = cur.execute(
            "SELECT e.event_id, e.order_id, e.kind, e.amount, o.status, o.refunded_amount "
            "FROM order_events e JOIN orders o ON o.order_id = e.order_id "
            "WHERE e.idempotency_key = ?",
            [idempotency_key],
        ).fetchone()
    if row is None:
        return None
    event_id, order_id, kind, amount, status, refunded = row
    return StoredEvent(int(event_id), order_id, kind, amount, status, refunded)


def stored_event_id(database: Database, idempotency_key: str) -> int | None:
    """The ID of the event stored under ``idempotency_key``, or None: a COMMIT can fail silently,
    so a write is checked by reading it back."""
    with database.cursor() as cur:
        row = cur.execute("SELECT event_id FROM order_events WHERE idempotency_key = ?",
                          [idempotency_key]).fetchone()
    return None if row is None else row[0]


def _expect_one_row(cur) -> None:
    if rows_written(cur) != 1:
        raise GuardMissed()


def _insert_event(cur, event: EventRow) -> int:
    (event_id,) = cur.execute(_INSERT_EVENT, [
        event.order_id, str(event.kind), event.amount,
        json.dumps(event.items) if event.items else None, event.reason, event.username,
        _now_utc(), event.idempotency_key, event.reason_code,
    ]).fetchone()
    return int(event_id)


def _now_utc() -> datetime:
    # Times are stored as naive UTC (core.db.schema).
    return datetime.now(timezone.utc).replace(tzinfo=None)
