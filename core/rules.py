"""Order status and refund rules: pure functions that decide, with no database and no UI.

The statuses and every move between them are ``core.status``'s (the one status machine); this
module adds what a user reads and may do: the refusal sentences, the acting roles, the amounts.

The page asks them to disable a button and say why; ``core.actions`` asks them before it writes,
and again with fresh figures to explain a guarded write that matched no row. A refusal is a
sentence for the user naming the order's current status and the requested action (docs/design.md §3,
§5). Money is ``Decimal`` throughout; amounts typed by a user go through
``core.money.parse_amount``.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from core.errors import CancelNotAllowed, InvalidAmount, InvalidInput, RefundNotAllowed
from core.i18n import N_
from core.money import parse_amount
from core.status import ACTION_MOVES, CHANNELS, STATUSES, Action, Channel, Status, may_start

CANCEL = Action.CANCEL
REFUND = Action.REFUND
ACTIONS = tuple(Action)
MAX_REASON_LENGTH = 500


class OrderFigures(Protocol):
    """What the rules read of an order (``core.db.OrderDetails`` has it)."""

    status: str
    captured_amount: Decimal
    refunded_amount: Decimal


class Line(Protocol):
    """What the rules read of an item line (``core.db.ItemLine`` has it)."""

    line_no: int
    name: str
    quantity: int
    unit_price: Decimal
    refunded_quantity: int


class Actor(Protocol):
    role: str


# The status table, from the machine (``core.status.ACTION_MOVES``): an allowed pair maps to the
# statuses the action leads to, in the machine's order (a refund leads to Completed while
# something is left, to Return once everything is refunded); every other pair maps to its
# refusal. Cancel and Return are final.
TRANSITIONS: dict[tuple[Status, Action], tuple[Status, ...]] = {
    pair: tuple(status for status in Status if status in leads_to)
    for pair, leads_to in ACTION_MOVES.items()
}
# The sentences name the statuses as the user reads them; the keys are the machine's.
REFUSALS: dict[tuple[Status, Action], str] = {
    (Status.COMPLETED, CANCEL): N_("Completed orders cannot be cancelled; refund them instead."),
    (Status.CANCEL, CANCEL): N_("The order is already cancelled: Cancel is a final status."),
    (Status.RETURN, CANCEL): N_("Return orders cannot be cancelled: the order is fully refunded and "
                             "Return is a final status."),
    (Status.PENDING, REFUND): N_("Pending orders cannot be refunded: only Completed orders can be. "
                              "Cancel it instead."),
    (Status.CANCEL, REFUND): N_("Cancelled orders cannot be refunded: Cancel is a final status."),
    (Status.RETURN, REFUND): N_("The order is fully refunded: Return is a final status, "
                             "nothing is left to refund."),
}
ROLE_REFUSALS = {
    CANCEL: N_("Your role ({role}) does not allow cancelling orders; ask a refunder or an admin."),
    REFUND: N_("Your role ({role}) does not allow refunds; ask a refunder or an admin."),
}
ACTING_ROLES = ("refunder", "admin")


def transition_refusal(status: str, action: str) -> str | None:
    """None when ``action`` is allowed from ``status``, else the refusal naming both."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if (status, action) in TRANSITIONS:
        return None
    if (status, action) in REFUSALS:
        return REFUSALS[(status, action)]
    verb = "cancelled" if action == CANCEL else "refunded"
    return f"Orders in status “{status}” cannot be {verb}."


def start_refusal(status: str, channel: str) -> str | None:
    """None when a new order of ``channel`` may be created in ``status``, else why not.

    An offline order is paid at the till, so it is never Pending (``core.status.may_start``).
    """
    if status not in STATUSES:
        return f"“{status}” is not a status: use one of {', '.join(STATUSES)}."
    if channel not in CHANNELS:
        return f"“{channel}” is not a channel: use one of {', '.join(CHANNELS)}."
    if may_start(status, channel):
        return None
    if channel == Channel.OFFLINE:
        return f"An offline order is never {status}: it is paid at the till."
    return f"A new {channel} order cannot be {status}."


def role_refusal(user: Actor, action: str) -> str | None:
    if user.role in ACTING_ROLES:
        return None
    return ROLE_REFUSALS[action].format(role=user.role)


def refundable_amount(order: OrderFigures) -> Decimal:
    """What can still be refunded now: captured − refunded, and nothing unless the status allows
    a refund (Completed)."""
    if (order.status, REFUND) not in TRANSITIONS:
        return Decimal("0.00")
    return max(order.captured_amount - order.refunded_amount, Decimal("0.00"))


def status_after_refund(order: OrderFigures, amount: Decimal) -> Status:
    """Return once everything is refunded, else the order stays Completed (``ACTION_MOVES``)."""
    if order.refunded_amount + amount == order.captured_amount:
        return Status.RETURN
    return Status.COMPLETED


def can_cancel(order: OrderFigures, user: Actor) -> str | None:
    """None when ``user`` may cancel ``order`` now, else why not."""
    refusal = role_refusal(user, CANCEL) or transition_refusal(order.status, CANCEL)
    if refusal:
        return refusal
    # A Cancel order has nothing refunded (``core.status.NOTHING_REFUNDED``); the schema forbids
    # it too, this says so plainly should data ever drift.
    if order.refunded_amount != 0:
        return N_("An order with refunds cannot be cancelled.")
    return None


def can_refund(order: OrderFigures, user: Actor) -> str | None:
    """None when ``user`` may refund ``order`` now, else why not."""
    refusal = role_refusal(user, REFUND) or transition_refusal(order.status, REFUND)
    if refusal:
        return refusal
    if refundable_amount(order) <= 0:
        return N_("Nothing is left to refund on this order.")
    return None


def check_refund_amount(text_or_amount: object, refundable: Decimal) -> Decimal:
    """An amount typed by the user (``339,99`` or ``339.99``), > 0 and ≤ refundable now."""
    amount = parse_amount(text_or_amount)
    if amount > refundable:
        raise InvalidAmount(
            N_("The refund of {amount} is more than the refundable amount ({refundable})."),
            amount=amount, refundable=refundable)
    return amount


def check_item_quantities(
    lines: Sequence[Line], quantities: Mapping[object, object] | None, *, require_one: bool = True
) -> dict[int, int]:
    """The chosen quantities as ``{line_no: qty}`` with the zeros dropped.

    Each quantity is a whole number from 0 to what is left to refund on its line; every line
    number must be one of this order's lines; with ``require_one`` at least one must be above 0.
    """
    by_no = {line.line_no: line for line in lines}
    chosen: dict[int, int] = {}
    for key, qty in (quantities or {}).items():
        line_no = _line_number(key)
        line = by_no.get(line_no) if line_no is not None else None
        if line is None:
            raise InvalidInput(N_("This order has no line {line}."), line=str(key)[:20])
        if isinstance(qty, bool) or not isinstance(qty, int):
            raise InvalidInput(N_("The quantity of “{item}” must be a whole number."),
                               item=line.name)
        if qty < 0:
            raise InvalidInput(N_("The quantity of “{item}” cannot be negative."), item=line.name)
        left = line.quantity - line.refunded_quantity
        if qty > left:
            raise InvalidInput(
                N_("Only {left} of “{item}” (line {line}) can still be refunded; {chosen} were "
                   "chosen."), left=left, item=line.name, line=line.line_no, chosen=qty
            )
        if qty:
            chosen[line.line_no] = qty
    if require_one and not chosen:
        raise InvalidInput(N_("Choose at least one item to refund (a quantity above 0)."))
    return chosen


def _line_number(key: object) -> int | None:
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key
    if isinstance(key, str) and key.isascii() and key.isdigit() and len(key) < 10:
        return int(key)
    return None


def plan_item_refund(
    lines: Sequence[Line], quantities: Mapping[object, object] | None, refundable: Decimal
) -> Decimal:
    """The amount of an item refund: Σ quantity × unit price, never above refundable now."""
    chosen = check_item_quantities(lines, quantities)
    by_no = {line.line_no: line for line in lines}
    total = sum((by_no[no].unit_price * qty for no, qty in chosen.items()), Decimal("0.00"))
    amount = min(total, refundable)
    if amount <= 0:
        raise InvalidAmount(N_("The chosen items add up to 0.00: there is nothing to refund."))
    return amount


def check_reason(reason: object, *, required: bool) -> str | None:
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput(N_("The reason must be text."))
    text = (reason or "").strip()
    if len(text) > MAX_REASON_LENGTH:
        raise InvalidInput(N_("The reason is too long: at most {limit} characters."),
                           limit=MAX_REASON_LENGTH)
    if required and not text:
        raise InvalidInput(N_("Enter a reason for an amount entered manually."))
    return text or None


@dataclass(frozen=True)
class RefundPlan:
    """What a refund will write: its amount, the quantities per line and the resulting status."""

    amount: Decimal
    quantities: dict[int, int]
    reason: str | None
    new_status: str
    new_refunded_amount: Decimal
    reason_code: str | None = None  # one of ``core.refunds.REASONS``; None: not asked for

    def items(self, lines: Iterable[Line]) -> list[dict]:
        """The event's item list (JSON-ready), in line order."""
        return [
            {"line_no": line.line_no, "name": line.name, "quantity": self.quantities[line.line_no],
             "unit_price": str(line.unit_price)}
            for line in sorted(lines, key=lambda l: l.line_no)
            if line.line_no in self.quantities
        ]


def plan_refund(
    order: OrderFigures,
    user: Actor,
    lines: Sequence[Line],
    *,
    amount: object = None,
    quantities: Mapping[object, object] | None = None,
    reason: object = None,
    reason_code: object = None,
) -> RefundPlan:
    """Decide a refund or refuse it (``RefundNotAllowed``, ``InvalidAmount``, ``InvalidInput``).

    With item lines: the amount is computed from the chosen quantities, unless an amount is
    entered manually, which then needs a reason. Without lines: the amount is required.
    With ``reason_code`` (the dialog always sends one; "" when none was chosen) the refund needs
    one of ``core.refunds.REASONS``, and ``reason`` is its comment, required for "Other" and for
    an amount entered manually (``core.refunds.check_refund_reason``).
    """
    refusal = can_refund(order, user)
    if refusal:
        raise RefundNotAllowed(refusal)
    refundable = refundable_amount(order)
    manual = amount is not None
    if not lines and any(quantities.values() if quantities else ()):
        raise InvalidInput(N_("This order has no item lines; enter the refund amount instead."))
    chosen = check_item_quantities(lines, quantities, require_one=not manual and bool(lines))
    if manual:
        value = check_refund_amount(amount, refundable)
    else:
        if not lines:
            raise InvalidAmount(N_("Enter an amount."))
        value = plan_item_refund(lines, chosen, refundable)
    code = None
    if reason_code is None:
        note = check_reason(reason, required=manual and bool(lines))
    else:
        # Imported here: core.refunds reads core.query, whose filters need core.users, which
        # needs this module's ACTING_ROLES.
        from core.refunds import check_refund_reason

        code, note = check_refund_reason(reason_code, reason, manual=manual and bool(lines))
    return RefundPlan(
        amount=value,
        quantities=chosen,
        reason=note,
        new_status=status_after_refund(order, value),
        new_refunded_amount=order.refunded_amount + value,
        reason_code=code,
    )


def plan_cancel(order: OrderFigures, user: Actor, *, reason: object = None) -> str | None:
    """The cancel's reason (optional), or ``CancelNotAllowed`` with why not."""
    refusal = can_cancel(order, user)
    if refusal:
        raise CancelNotAllowed(refusal)
    return check_reason(reason, required=False)

