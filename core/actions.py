"""Cancel and refund: the thin shell that applies ``core.rules``' decisions in one transaction.

Every call re-checks the user's role and scope (an order outside the scope is "Order not found",
exactly like a missing one), asks the rules, then writes. DuckDB gives each transaction a snapshot,
so "read what is left, then insert a refund" over-refunds when two run at once (docs/stack-facts.md,
DuckDB). The guard therefore lives in the writes (``core.db.writes``): each is a conditional
UPDATE that restates the status machine (``status IN ('Completed') AND refunded_amount + ? <=
amount``, ``refunded_quantity + ? <= quantity``, ``status IN ('Pending')``). A write that matches
no row rolls everything back and the decision is taken again from a fresh read, which then names
the reason; a transaction that touched a row another one committed first is aborted by DuckDB
(``WriteConflict``) and retried the same way.

Exactly-once: each opened form carries an idempotency key, stored UNIQUE on the event row. A key
already stored answers with the first result (``already_processed``); success is reported only
after the event row is read back, because a COMMIT after a conflict may return without raising
while everything was rolled back.
"""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from core import rules
from core.db import Database, OrderDetails, writes
from core.db.writes import EventRow, GuardMissed, StoredEvent
from core.errors import (
    ActionFailed,
    CancelNotAllowed,
    InvalidInput,
    OrderdeskError,
    RefundNotAllowed,
    WriteConflict,
)
from core.i18n import N_
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


def reference(kind: str, event_id: int) -> str:
    """The ID the user sees: ``R-<event id>`` for a refund, ``C-<event id>`` for a cancel."""
    return f"{'R' if kind == rules.REFUND else 'C'}-{event_id}"


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
        """The ID the user sees: ``reference(kind, event_id)``."""
        return reference(self.kind, self.event_id)

    @classmethod
    def of(cls, event: StoredEvent, *, already_processed: bool = False) -> "ActionResult":
        return cls(event.event_id, event.amount, event.status, event.refunded_amount,
                   already_processed=already_processed, kind=event.kind)


# What a decision hands to the retry loop: a call that makes the guarded write.
Write = Callable[[], StoredEvent]


def refund_order(
    database: Database,
    user: User,
    order_id: object,
    *,
    idempotency_key: str,
    amount: object = None,
    items: dict | None = None,
    reason: str | None = None,
    reason_code: str | None = None,
    tz: ZoneInfo,
) -> ActionResult:
    """Refund ``amount`` (typed text or a Decimal) or the chosen ``items`` (``{line_no: qty}``),
    for ``reason_code`` (``core.refunds.REASONS``) with ``reason`` as its comment.

    Raises ``OrderNotFound``, ``RefundNotAllowed``, ``InvalidAmount``/``InvalidInput`` (nothing
    written), ``WriteConflict`` when the order kept changing, ``ActionFailed`` when the write
    broke off (nothing written either).
    """
    key = _check_key(idempotency_key)
    refusal = rules.role_refusal(user, rules.REFUND)
    if refusal:
        raise RefundNotAllowed(refusal)
    first_amount: list[Decimal] = []  # the amount of the first attempt's plan

    def decide(order: OrderDetails) -> Write:
        lines = database.fetch_items(order)
        plan = rules.plan_refund(order, user, lines, amount=amount, quantities=items,
                                 reason=reason, reason_code=reason_code)
        if not first_amount:
            first_amount.append(plan.amount)
        elif plan.amount != first_amount[0]:
            # An item refund is capped at what is refundable now; if that moved under us, the
            # amount the user saw is no longer the amount we would refund.
            raise RefundNotAllowed(
                N_("The order changed while the refund was being made; refundable now is "
                   "{refundable}. Check the amounts and try again."),
                refundable=rules.refundable_amount(order))
        event = EventRow(order.order_id, rules.REFUND, plan.amount,
                         plan.items(lines) if plan.quantities else None, plan.reason,
                         user.username, key, reason_code=plan.reason_code)
        return lambda: writes.write_refund(database, event, plan.quantities, _between_writes)

    return _act(database, user, order_id, key, rules.REFUND, decide, tz, conflict=(
        "The order kept changing while the refund was being made; nothing was refunded. "
        "Please try again."
    ))


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

    def decide(order: OrderDetails) -> Write:
        note = rules.plan_cancel(order, user, reason=reason)
        event = EventRow(order.order_id, rules.CANCEL, Decimal("0.00"), None, note,
                         user.username, key)
        return lambda: writes.write_cancel(database, event, _between_writes)

    return _act(database, user, order_id, key, rules.CANCEL, decide, tz, conflict=(
        "The order kept changing while it was being cancelled; nothing was changed. "
        "Please try again."
    ))


def _act(database: Database, user: User, order_id: object, key: str, kind: str,
         decide: Callable[[OrderDetails], Write], tz: ZoneInfo, *, conflict: str) -> ActionResult:
    """Read the order, answer with the result stored under ``key`` if there is one, else decide
    (``decide`` raises the refusal) and write; retried from a fresh read when a guard missed or
    DuckDB reported a conflict, and ``WriteConflict(conflict)`` after ``MAX_ATTEMPTS``."""
    for attempt in range(MAX_ATTEMPTS):
        order = database.fetch_order(user.scope, order_id, tz)
        done = _stored_result(database, key, order, kind)
        if done:
            return done
        write = decide(order)
        try:
            written = write()
        except (GuardMissed, WriteConflict):
            _pause(attempt)
            continue
        except OrderdeskError as exc:
            return _stored_or_failed(database, key, order, kind, exc)
        except Exception as exc:  # noqa: BLE001 - a broken write is reported, never swallowed
            log.exception("%s of order %s failed", kind, order.order_id)
            return _stored_or_failed(database, key, order, kind, exc)
        if writes.stored_event_id(database, key) == written.event_id:
            return ActionResult.of(written)
        _pause(attempt)  # COMMIT returned but nothing was kept: a silent conflict; try again
    raise WriteConflict(conflict)


# -- helpers -----------------------------------------------------------------------------------

def _stored_result(database: Database, key: str, order: OrderDetails,
                   kind: str) -> ActionResult | None:
    """The action already stored under ``key`` with the order's figures now, or None."""
    stored = writes.fetch_stored_event(database, key)
    if stored is None:
        return None
    if stored.order_id != order.order_id or stored.kind != kind:
        raise InvalidInput(N_("This form was already used for another action; close it and "
                              "open it again."))
    return ActionResult.of(stored, already_processed=True)


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
    raise ActionFailed(
        N_("The refund failed and nothing was refunded; the order is unchanged. Please try again.")
        if kind == rules.REFUND else
        N_("The cancel failed and the order was not cancelled; the order is unchanged. Please "
           "try again.")) from exc


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(N_("This form has expired; close it and open it again."))
    return key


def _pause(attempt: int) -> None:
    # Spread the retries of sessions that collided, so they do not collide again in step.
    time.sleep(random.uniform(0.002, 0.01) * (attempt + 1))
