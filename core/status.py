"""The order status machine, written once: the statuses, the channels, and every move between them.

An order starts Pending (online orders only: an offline order is paid at the till, so it starts
Completed) or Completed. A user's action or an import's status sync moves it:

    Pending ──cancel / import──▶ Cancel          (final)
    Pending ──import──────────▶ Completed
    Completed ──refund─────────▶ Completed        (something is left to refund)
    Completed ──refund / import▶ Return           (everything refunded; final)

``core.rules`` decides the user's actions with it, the importer the status changes it accepts,
``core.db.writes`` states it in its guarded writes, and ``core.db.schema`` generates its CHECK
constraints from it (docs/design.md §3).
"""
from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """An order's status; the values are the words stored, shown and exported."""

    PENDING = "Pending"
    COMPLETED = "Completed"
    CANCEL = "Cancel"
    RETURN = "Return"


class Channel(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class Action(StrEnum):
    """What a user may do to an order."""

    CANCEL = "cancel"
    REFUND = "refund"


STATUSES: tuple[str, ...] = tuple(Status)
CHANNELS: tuple[str, ...] = tuple(Channel)
FINAL_STATUSES = frozenset({Status.CANCEL, Status.RETURN})

# The statuses an order may be created in, by channel: an offline order is never Pending.
STARTING_STATUSES: dict[str, frozenset[Status]] = {
    Channel.ONLINE: frozenset(Status),
    Channel.OFFLINE: frozenset(Status) - {Status.PENDING},
}

# A user's action: from a status to the statuses it may lead to. A refund stays Completed while
# something is left and leads to Return once everything is refunded.
ACTION_MOVES: dict[tuple[Status, Action], frozenset[Status]] = {
    (Status.PENDING, Action.CANCEL): frozenset({Status.CANCEL}),
    (Status.COMPLETED, Action.REFUND): frozenset({Status.COMPLETED, Status.RETURN}),
}

# An import's status sync of an existing order: from a status to the statuses it may write.
# Staying is always allowed; a final status never changes; nothing goes back to Pending.
IMPORT_MOVES: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.PENDING, Status.COMPLETED, Status.CANCEL}),
    Status.COMPLETED: frozenset({Status.COMPLETED, Status.RETURN}),
    Status.CANCEL: frozenset({Status.CANCEL}),
    Status.RETURN: frozenset({Status.RETURN}),
}

# What an order's refunded amount must be in a status (the rest is ``0 ≤ refunded ≤ amount``).
NOTHING_REFUNDED = frozenset({Status.PENDING, Status.CANCEL})
ALL_REFUNDED = frozenset({Status.RETURN})


def may_start(status: str, channel: str) -> bool:
    """Whether a new order of ``channel`` may be created in ``status``."""
    return status in STARTING_STATUSES.get(channel, frozenset())


def may_import(current: str, requested: str) -> bool:
    """Whether an import may change an order in ``current`` to ``requested``."""
    return requested in IMPORT_MOVES.get(current, frozenset())


def action_leads_to(status: str, action: str) -> frozenset[Status]:
    """The statuses ``action`` may lead to from ``status``; empty when it is not allowed."""
    return ACTION_MOVES.get((status, action), frozenset())


def action_starts(action: str) -> frozenset[Status]:
    """The statuses ``action`` is allowed from (the guarded writes' ``status IN ...``)."""
    return frozenset(status for status, move in ACTION_MOVES if move == action)


def is_partially_refunded(status: str, refunded_amount) -> bool:
    """A Completed order with some money refunded: shown as "Completed · partially refunded"."""
    return status == Status.COMPLETED and bool(refunded_amount)
