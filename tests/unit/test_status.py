"""The status machine as tables: every (status, action) pair, every import move, every start by
channel, written out in the stored words, so a change to ``core.status`` shows here line by line."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from core import rules, status
from core.db.schema import check_constraints
from core.status import Action, Channel, Status

ALL_STATUSES = ("Pending", "Completed", "Cancel", "Return")
ALL_CHANNELS = ("online", "offline")


@dataclass(frozen=True)
class Order:
    status: str
    captured_amount: Decimal
    refunded_amount: Decimal


def test_the_words_are_the_stored_ones():
    assert status.STATUSES == ALL_STATUSES
    assert status.CHANNELS == ALL_CHANNELS
    assert tuple(Action) == ("cancel", "refund")
    assert status.FINAL_STATUSES == {"Cancel", "Return"}


# Every (status, action) pair and the statuses it leads to; empty: not allowed.
ACTION_TABLE = [
    ("Pending", "cancel", {"Cancel"}),
    ("Pending", "refund", set()),
    ("Completed", "cancel", set()),
    ("Completed", "refund", {"Completed", "Return"}),
    ("Cancel", "cancel", set()),
    ("Cancel", "refund", set()),
    ("Return", "cancel", set()),
    ("Return", "refund", set()),
]


def test_the_action_table_covers_every_status_and_action():
    assert [(s, a) for s, a, _ in ACTION_TABLE] == [
        (s, a) for s in ALL_STATUSES for a in ("cancel", "refund")]


@pytest.mark.parametrize("current, action, leads_to", ACTION_TABLE)
def test_an_action_leads_where_the_machine_says(current, action, leads_to):
    assert status.action_leads_to(current, action) == leads_to
    assert (current in status.action_starts(action)) == bool(leads_to)
    # The rules decide by the same table, with the statuses in the machine's order.
    assert ((current, action) in rules.TRANSITIONS) == bool(leads_to)
    assert (rules.transition_refusal(current, action) is None) == bool(leads_to)
    if leads_to:
        assert set(rules.TRANSITIONS[(current, action)]) == leads_to


def test_an_unknown_status_or_action_leads_nowhere():
    assert status.action_leads_to("Shipped", "refund") == frozenset()
    assert status.action_leads_to("Completed", "ship") == frozenset()
    assert status.action_starts("ship") == frozenset()


@pytest.mark.parametrize("refunded, amount, expected", [
    ("0.00", "40.00", "Completed"), ("50.00", "10.00", "Completed"), ("60.00", "40.00", "Return"),
    ("0.00", "100.00", "Return"),
])
def test_a_refund_stays_within_the_machine(refunded, amount, expected):
    order = Order("Completed", Decimal("100.00"), Decimal(refunded))
    after = rules.status_after_refund(order, Decimal(amount))
    assert after == expected
    assert after in status.action_leads_to("Completed", "refund")
    assert (after in status.ALL_REFUNDED) == (Decimal(refunded) + Decimal(amount) == 100)


# Every (current, requested) pair of an import's status sync.
IMPORT_TABLE = [
    ("Pending", "Pending", True),
    ("Pending", "Completed", True),
    ("Pending", "Cancel", True),
    ("Pending", "Return", False),
    ("Completed", "Pending", False),
    ("Completed", "Completed", True),
    ("Completed", "Cancel", False),
    ("Completed", "Return", True),
    ("Cancel", "Pending", False),
    ("Cancel", "Completed", False),
    ("Cancel", "Cancel", True),
    ("Cancel", "Return", False),
    ("Return", "Pending", False),
    ("Return", "Completed", False),
    ("Return", "Cancel", False),
    ("Return", "Return", True),
]


def test_the_import_table_covers_every_pair():
    assert [(c, r) for c, r, _ in IMPORT_TABLE] == [
        (c, r) for c in ALL_STATUSES for r in ALL_STATUSES]


@pytest.mark.parametrize("current, requested, allowed", IMPORT_TABLE)
def test_an_import_moves_only_as_the_machine_says(current, requested, allowed):
    assert status.may_import(current, requested) is allowed


def test_a_final_status_never_changes_and_nothing_goes_back_to_pending():
    for final in status.FINAL_STATUSES:
        assert status.IMPORT_MOVES[final] == {final}
        assert not any(status.action_leads_to(final, action) for action in Action)
    for current in ALL_STATUSES:
        if current != "Pending":
            assert not status.may_import(current, "Pending")


@pytest.mark.parametrize("current, requested", [("Shipped", "Pending"), ("Pending", "Shipped")])
def test_an_import_of_an_unknown_status_is_refused(current, requested):
    assert status.may_import(current, requested) is False


# Every status a new order may start in, by channel: an offline order is paid at the till.
START_TABLE = [
    ("Pending", "online", True),
    ("Completed", "online", True),
    ("Cancel", "online", True),
    ("Return", "online", True),
    ("Pending", "offline", False),
    ("Completed", "offline", True),
    ("Cancel", "offline", True),
    ("Return", "offline", True),
]


def test_the_start_table_covers_every_status_and_channel():
    assert [(s, c) for s, c, _ in START_TABLE] == [
        (s, c) for c in ALL_CHANNELS for s in ALL_STATUSES]


@pytest.mark.parametrize("start, channel, allowed", START_TABLE)
def test_an_order_starts_only_where_the_machine_says(start, channel, allowed):
    assert status.may_start(start, channel) is allowed
    assert (rules.start_refusal(start, channel) is None) is allowed


@pytest.mark.parametrize("start, channel", [("Pending", "pos"), ("Completed", "Online"),
                                            ("Shipped", "online")])
def test_an_unknown_status_or_channel_never_starts(start, channel):
    assert status.may_start(start, channel) is False


def test_an_offline_order_is_never_pending_whatever_moves_it():
    reachable = set(status.STARTING_STATUSES[Channel.OFFLINE])
    while True:
        more = {after for current in reachable
                for after in status.IMPORT_MOVES[current]
                | set().union(*(status.action_leads_to(current, a) for a in Action))}
        if more <= reachable:
            break
        reachable |= more
    assert Status.PENDING not in reachable


@pytest.mark.parametrize("current, refunded, partially", [
    ("Completed", Decimal("0.00"), False),
    ("Completed", Decimal("0.01"), True),
    ("Completed", Decimal("100.00"), True),  # a Completed order imported fully refunded
    ("Pending", Decimal("0.00"), False),
    ("Cancel", Decimal("0.00"), False),
    ("Return", Decimal("100.00"), False),
    ("Completed", None, False),
])
def test_partially_refunded_means_completed_with_money_refunded(current, refunded, partially):
    assert status.is_partially_refunded(current, refunded) is partially


def test_the_check_constraints_name_every_status_and_channel():
    checks = check_constraints()
    assert checks[0] == "status IN ('Cancel', 'Completed', 'Pending', 'Return')"
    assert checks[1] == "channel IN ('offline', 'online')"
    assert "status NOT IN ('Pending') OR channel = 'online'" in checks
    assert "status NOT IN ('Return') OR refunded_amount = amount" in checks
    assert "status NOT IN ('Cancel', 'Pending') OR refunded_amount = 0" in checks
