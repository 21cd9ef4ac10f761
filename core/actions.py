"""Cancel and refund: the thin shell that applies ``core.rules``' decisions in one transaction.

Every call re-checks the user's role and scope (an order outside the scope is "Order not found",
exactly like a missing one), asks the rules, then writes. DuckDB gives each transaction a snapshot,
so "read what is left, then insert a refund" over-refunds when two run at once (docs/stack-facts.md,
DuckDB). The guard therefore lives in the writes: each is a conditional UPDATE that restates the
rule (``status = 'Completed' AND refunded_amount + ? <= amount``, ``refunded_quantity + ? <=
quantity``, ``status = 'Pending'``). A write that matches no row rolls everything back and the
decision is taken again from a fresh read, which then names the reason; a transaction that touched a
row another one committed first is aborted by DuckDB (``WriteConflict``) and retried the same way.

Exactly-once: each opened form carries an idempotency key, stored UNIQUE on the event row. A key
already stored answers with the first result (``already_processed``); success is reported only
after the event row is read back, because a COMMIT after a conflict may return without raising
while everything was rolled back.
"""
from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from core import rules
from core.errors import (
    ActionFailed,
    CancelNotAllowed,
    InvalidInput,
    OrderdeskError,
    RefundNotAllowed,
    WriteConflict,
)
from core.db import ItemLine, OrderDetails, Database
from core.users import User

log = logging.getLogger(__name__)

# A conflict means someone else's change won; each retry starts from a fresh read, so a handful
# is plenty for people clicking buttons, and it bounds the wait under a burst of refunds.
MAX_ATTEMPTS = 8
MAX_KEY_LENGTH = 100


def _between_writes() -> None:
    """Runs inside the transaction after the order's update and before the other writes.

    A no-op. Tests replace it to inject a failure midway through a refund or a cancel, which
    proves that nothing of a broken-off action is written.
    """


@dataclass(frozen=True)
class ActionResult:
    """The outcome of a cancel or a refund, or of its first submission when repeated."""

    event_id: int
    amount: Decimal
    new_status: str
    refunded_amount: Decimal
    already_processed: bool = False
    kind: str = rules.REFUND

    @property
    def reference(self) -> str:
        """The ID the user sees: ``R-<event id>`` for a refund, ``C-<event id>`` for a cancel."""
        return f"{'R' if self.kind == rules.REFUND else 'C'}-{self.event_id}"


class _GuardMissed(Exception):
    """A conditional write matched no row: the order changed since it was read."""


def refund_order(
    database: Database,
    user: User,
    order_id: object,
    *,
    idempotency_key: str,
    amount: object = None,
    items: dict | None = None,
    reason: str | None = None,
    tz: ZoneInfo,
) -> ActionResult:
    """Refund ``amount`` (typed text or a Decimal) or the chosen ``items`` (``{line_no: qty}``).

    Raises ``OrderNotFound``, ``RefundNotAllowed``, ``InvalidAmount``/``InvalidInput`` (nothing
    written), ``WriteConflict`` when the order kept changing, ``ActionFailed`` when the write
    broke off (nothing written either).
    """
    key = _check_key(idempotency_key)
    refusal = rules.role_refusal(user, rules.REFUND)
    if refusal:
        raise RefundNotAllowed(refusal)
    first_amount: Decimal | None = None
    for attempt in range(MAX_ATTEMPTS):
        order = database.fetch_order(user.scope, order_id, tz)
        done = _stored_result(database, key, order, rules.REFUND)
        if done:
            return done
        lines = database.fetch_items(order)
        plan = rules.plan_refund(order, user, lines, amount=amount, quantities=items,
                                 reason=reason)
        if first_amount is None:
            first_amount = plan.amount
        elif plan.amount != first_amount:
            # An item refund is capped at what is refundable now; if that moved under us, the
            # amount the user saw is no longer the amount we would refund.
            raise RefundNotAllowed(
                "The order changed while the refund was being made; refundable now is "
                f"{rules.refundable_amount(order):,.2f}. Check the amounts and try again."
            )
        try:
            written = _write_refund(database, user, order, lines, plan, key)
        except (_GuardMissed, WriteConflict):
            _pause(attempt)
            continue
        except OrderdeskError as exc:
            return _stored_or_failed(database, key, order, rules.REFUND, exc)
        except Exception as exc:  # noqa: BLE001 - a broken write is reported, never swallowed
            log.exception("refund of order %s failed", order.order_id)
            return _stored_or_failed(database, key, order, rules.REFUND, exc)
        if _is_stored(database, key, written.event_id):
            return written
        _pause(attempt)  # COMMIT returned but nothing was kept: a silent conflict; try again
    raise WriteConflict(
        "The order kept changing while the refund was being made; nothing was refunded. "
        "Please try again."
    )


def cancel_order(
    database: Database,
    user: User,
    order_id: object,
    *,
    idempotency_key: str,
    reason: str | None = None,
    tz: ZoneInfo,
) -> ActionResult:
    """Cancel a Pending order. Raises ``OrderNotFound``, ``CancelNotAllowed``, ``InvalidInput``,
    ``WriteConflict`` or ``ActionFailed``; in every one of these cases nothing was written."""
    key = _check_key(idempotency_key)
    refusal = rules.role_refusal(user, rules.CANCEL)
    if refusal:
        raise CancelNotAllowed(refusal)
    for attempt in range(MAX_ATTEMPTS):
        order = database.fetch_order(user.scope, order_id, tz)
        done = _stored_result(database, key, order, rules.CANCEL)
        if done:
            return done
        note = rules.plan_cancel(order, user, reason=reason)
        try:
            written = _write_cancel(database, user, order, note, key)
        except (_GuardMissed, WriteConflict):
            _pause(attempt)
            continue
        except OrderdeskError as exc:
            return _stored_or_failed(database, key, order, rules.CANCEL, exc)
        except Exception as exc:  # noqa: BLE001
            log.exception("cancel of order %s failed", order.order_id)
            return _stored_or_failed(database, key, order, rules.CANCEL, exc)
        if _is_stored(database, key, written.event_id):
            return written
        _pause(attempt)
    raise WriteConflict(
        "The order kept changing while it was being cancelled; nothing was changed. "
        "Please try again."
    )


# -- the guarded writes ----------------------------------------------------------------------------

def _write_refund(
    database: Database, user: User, order: OrderDetails, lines: list[ItemLine],
    plan: rules.RefundPlan, key: str,
) -> ActionResult:
    with database.transaction() as cur:
        # The order first: DuckDB checks foreign keys eagerly, and an event row inserted before
        # its order's update raised a false violation (docs/stack-facts.md, DuckDB). No RETURNING
        # here either: on a table that other tables reference it turns the update into a false FK
        # violation too.
        (updated,) = cur.execute(
            "UPDATE orders SET refunded_amount = refunded_amount + ?, "
            "status = CASE WHEN refunded_amount + ? = amount THEN 'Return' ELSE status END "
            "WHERE order_id = ? AND status = 'Completed' AND refunded_amount + ? <= amount",
            [plan.amount, plan.amount, order.order_id, plan.amount],
        ).fetchone()
        if updated != 1:
            raise _GuardMissed()
        _between_writes()
        for line_no, qty in plan.quantities.items():
            (updated,) = cur.execute(
                "UPDATE order_items SET refunded_quantity = refunded_quantity + ? "
                "WHERE order_id = ? AND line_no = ? AND refunded_quantity + ? <= quantity",
                [qty, order.order_id, line_no, qty],
            ).fetchone()
            if updated != 1:
                raise _GuardMissed()
        (event_id,) = cur.execute(
            "INSERT INTO order_events (order_id, kind, amount, items, reason, username, "
            "created_at, idempotency_key) VALUES (?, 'refund', ?, ?, ?, ?, ?, ?) "
            "RETURNING event_id",
            [order.order_id, plan.amount, json.dumps(plan.items(lines)) if plan.quantities
             else None, plan.reason, user.username, _now_utc(), key],
        ).fetchone()
        status, refunded = cur.execute(
            "SELECT status, refunded_amount FROM orders WHERE order_id = ?", [order.order_id]
        ).fetchone()
    return ActionResult(int(event_id), plan.amount, status, refunded)


def _write_cancel(database: Database, user: User, order: OrderDetails, reason: str | None,
                  key: str) -> ActionResult:
    with database.transaction() as cur:
        (updated,) = cur.execute(
            "UPDATE orders SET status = 'Cancel' "
            "WHERE order_id = ? AND status = 'Pending' AND refunded_amount = 0",
            [order.order_id],
        ).fetchone()
        if updated != 1:
            raise _GuardMissed()
        _between_writes()
        (event_id,) = cur.execute(
            "INSERT INTO order_events (order_id, kind, amount, items, reason, username, "
            "created_at, idempotency_key) VALUES (?, 'cancel', 0, NULL, ?, ?, ?, ?) "
            "RETURNING event_id",
            [order.order_id, reason, user.username, _now_utc(), key],
        ).fetchone()
    return ActionResult(int(event_id), Decimal("0.00"), "Cancel", order.refunded_amount,
                        kind=rules.CANCEL)


# -- helpers -----------------------------------------------------------------------------------

def _stored_result(database: Database, key: str, order: OrderDetails, kind: str) -> ActionResult | None:
    """The action already stored under ``key`` with the order's figures now, or None."""
    with database.cursor() as cur:
        row = cur.execute(
            "SELECT e.event_id, e.order_id, e.kind, e.amount, o.status, o.refunded_amount "
            "FROM order_events e JOIN orders o ON o.order_id = e.order_id "
            "WHERE e.idempotency_key = ?",
            [key],
        ).fetchone()
    if row is None:
        return None
    event_id, event_order_id, event_kind, amount, status, refunded = row
    if event_order_id != order.order_id or event_kind != kind:
        raise InvalidInput("This form was already used for another action; close it and open "
                           "it again.")
    return ActionResult(int(event_id), amount, status, refunded, already_processed=True,
                        kind=kind)


def _is_stored(database: Database, key: str, event_id: int) -> bool:
    """Whether the event just written is really there (a COMMIT can fail silently)."""
    with database.cursor() as cur:
        row = cur.execute("SELECT event_id FROM order_events WHERE idempotency_key = ?",
                          [key]).fetchone()
    return row is not None and row[0] == event_id


def _stored_or_failed(database: Database, key: str, order: OrderDetails, kind: str,
                      exc: BaseException) -> ActionResult:
    """After a broken-off write: the result stored under the key by a concurrent submission of
    the same form (a duplicate key is how that one shows), else ``ActionFailed``."""
    stored = None
    try:
        stored = _stored_result(database, key, order, kind)
    except OrderdeskError:
        log.exception("re-reading idempotency key after a failed %s", kind)
    if stored:
        return stored
    what = "refund" if kind == rules.REFUND else "cancel"
    unchanged = "nothing was refunded" if kind == rules.REFUND else "the order was not cancelled"
    raise ActionFailed(
        f"The {what} failed and {unchanged}; the order is unchanged. Please try again."
    ) from exc


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput("This form has expired; close it and open it again.")
    return key


def _pause(attempt: int) -> None:
    # Spread the retries of sessions that collided, so they do not collide again in step.
    time.sleep(random.uniform(0.002, 0.01) * (attempt + 1))


def _now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
