"""The status and refund rules as tables: every (status, action) pair, every bad amount."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from core import rules
from core.errors import CancelNotAllowed, InvalidAmount, InvalidInput, RefundNotAllowed
from core.db.schema import STATUSES
from core.users import User


@dataclass(frozen=True)
class Order:
    status: str
    captured_amount: Decimal
    refunded_amount: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class Line:
    line_no: int
    name: str
    quantity: int
    unit_price: Decimal
    refunded_quantity: int = 0


@dataclass(frozen=True)
class Actor:
    role: str


REFUNDER, ADMIN, VIEWER = Actor("refunder"), Actor("admin"), Actor("viewer")
D = Decimal


def order(status: str, captured="100.00", refunded="0.00") -> Order:
    return Order(status, D(captured), D(refunded))


# Every (status, action) pair of the table, with the exact refusal the user reads.
STATUS_TABLE = [
    ("Pending", "cancel", None),
    ("Pending", "refund",
     "Pending orders cannot be refunded: only Completed orders can be. Cancel it instead."),
    ("Completed", "cancel", "Completed orders cannot be cancelled; refund them instead."),
    ("Completed", "refund", None),
    ("Cancel", "cancel", "The order is already cancelled: Cancel is a final status."),
    ("Cancel", "refund", "Cancelled orders cannot be refunded: Cancel is a final status."),
    ("Return", "cancel",
     "Return orders cannot be cancelled: the order is fully refunded and Return is a final status."),
    ("Return", "refund",
     "The order is fully refunded: Return is a final status, nothing is left to refund."),
]


def test_the_table_covers_every_status_and_action():
    assert {(s, a) for s, a, _ in STATUS_TABLE} == {(s, a) for s in STATUSES for a in rules.ACTIONS}


@pytest.mark.parametrize("status, action, refusal", STATUS_TABLE)
def test_status_transition_is_allowed_or_refused_with_the_exact_reason(status, action, refusal):
    assert rules.transition_refusal(status, action) == refusal
    refunded = "100.00" if status == "Return" else "0.00"
    check = rules.can_cancel if action == "cancel" else rules.can_refund
    for user in (REFUNDER, ADMIN):
        assert check(order(status, refunded=refunded), user) == refusal


@pytest.mark.parametrize("action, message", [
    ("cancel", "Your role (viewer) does not allow cancelling orders; ask a refunder or an admin."),
    ("refund", "Your role (viewer) does not allow refunds; ask a refunder or an admin."),
])
@pytest.mark.parametrize("status", ["Pending", "Completed"])
def test_viewer_is_refused_whatever_the_status(action, message, status):
    check = rules.can_cancel if action == "cancel" else rules.can_refund
    assert check(order(status), VIEWER) == message


def test_unknown_status_is_refused_by_name():
    assert rules.transition_refusal("Shipped", "cancel") == (
        "Orders in status “Shipped” cannot be cancelled.")


def test_refund_refused_when_nothing_is_left():
    assert rules.can_refund(order("Completed", "50.00", "50.00"), REFUNDER) == (
        "Nothing is left to refund on this order.")


@pytest.mark.parametrize("status, refunded, expected", [
    ("Completed", "0.00", "100.00"),
    ("Completed", "33.33", "66.67"),
    ("Pending", "0.00", "0.00"),
    ("Cancel", "0.00", "0.00"),
    ("Return", "100.00", "0.00"),
])
def test_refundable_now_is_captured_minus_refunded_only_when_completed(status, refunded, expected):
    assert rules.refundable_amount(order(status, refunded=refunded)) == D(expected)


# -- amounts --------------------------------------------------------------------------------------

AMOUNTS_OK = [("339,99", "339.99"), ("339.99", "339.99"), (" 12.5 ", "12.50"), ("100", "100.00"),
              ("0.01", "0.01"), (D("42.10"), "42.10")]


@pytest.mark.parametrize("text, expected", AMOUNTS_OK)
def test_amount_text_is_accepted_exactly(text, expected):
    assert rules.check_refund_amount(text, D("400.00")) == D(expected)


BAD_AMOUNTS = [
    ("0", "The amount must be greater than zero."),
    ("0,00", "The amount must be greater than zero."),
    ("-5", "The amount must be greater than zero."),
    ("0.001", "The amount can have at most 2 decimal places."),
    ("1e3", "“1e3” is not an amount: use digits with at most 2 decimals, e.g. 339.99."),
    ("NaN", "“NaN” is not an amount: use digits with at most 2 decimals, e.g. 339.99."),
    ("inf", "“inf” is not an amount: use digits with at most 2 decimals, e.g. 339.99."),
    ("abc", "“abc” is not an amount: use digits with at most 2 decimals, e.g. 339.99."),
    ("1,000.00", "“1,000.00” is not an amount: use digits with at most 2 decimals, e.g. 339.99."),
    ("", "Enter an amount."),
    ("   ", "Enter an amount."),
    (D("NaN"), "“NaN” is not an amount: use digits with at most 2 decimals, e.g. 339.99."),
    (D("-1"), "The amount must be greater than zero."),
    (12.5, "Enter the amount as text, for example 339.99."),
    ("100.01", "The refund of 100.01 is more than the refundable amount (100.00)."),
]


@pytest.mark.parametrize("text, message", BAD_AMOUNTS)
def test_bad_amount_is_refused_with_a_clear_message(text, message):
    with pytest.raises(InvalidAmount) as err:
        rules.check_refund_amount(text, D("100.00"))
    assert str(err.value) == message


# -- item refunds ---------------------------------------------------------------------------------

LINES = [
    Line(1, "Jacket", 2, D("49.99")),
    Line(2, "Socks", 3, D("5.00"), refunded_quantity=1),
    Line(3, "Gift wrap", 1, D("0.00")),
]


@pytest.mark.parametrize("quantities, refundable, expected", [
    ({1: 1}, "200.00", "49.99"),
    ({1: 2, 2: 2}, "200.00", "109.98"),
    ({"2": 1, 1: 0}, "200.00", "5.00"),
    ({1: 2}, "60.00", "60.00"),  # capped at refundable now
    ({1: 1, 3: 1}, "200.00", "49.99"),
])
def test_item_refund_amount_is_quantity_times_price_capped(quantities, refundable, expected):
    assert rules.plan_item_refund(LINES, quantities, D(refundable)) == D(expected)


BAD_QUANTITIES = [
    ({}, "Choose at least one item to refund (a quantity above 0)."),
    ({1: 0, 2: 0}, "Choose at least one item to refund (a quantity above 0)."),
    ({1: 3}, "Only 2 of “Jacket” (line 1) can still be refunded; 3 were chosen."),
    ({2: 3}, "Only 2 of “Socks” (line 2) can still be refunded; 3 were chosen."),
    ({1: -1}, "The quantity of “Jacket” cannot be negative."),
    ({1: 1.0}, "The quantity of “Jacket” must be a whole number."),
    ({1: True}, "The quantity of “Jacket” must be a whole number."),
    ({1: "1"}, "The quantity of “Jacket” must be a whole number."),
    ({4: 1}, "This order has no line 4."),
    ({0: 1}, "This order has no line 0."),
    ({"x": 1}, "This order has no line x."),
    ({True: 1}, "This order has no line True."),
]


@pytest.mark.parametrize("quantities, message", BAD_QUANTITIES)
def test_bad_item_quantities_are_refused(quantities, message):
    with pytest.raises(InvalidInput) as err:
        rules.plan_item_refund(LINES, quantities, D("200.00"))
    assert str(err.value) == message


def test_free_items_alone_refund_nothing():
    with pytest.raises(InvalidAmount, match="add up to 0.00"):
        rules.plan_item_refund(LINES, {3: 1}, D("200.00"))


# -- whole refund decisions ------------------------------------------------------------------------

def test_item_refund_plan_records_lines_and_leads_to_return_when_everything_is_refunded():
    lines = [Line(1, "Jacket", 2, D("50.00"))]
    plan = rules.plan_refund(order("Completed", "100.00"), REFUNDER, lines, quantities={1: 2})
    assert (plan.amount, plan.new_status, plan.new_refunded_amount) == (
        D("100.00"), "Return", D("100.00"))
    assert plan.items(lines) == [
        {"line_no": 1, "name": "Jacket", "quantity": 2, "unit_price": "50.00"}]


@pytest.mark.parametrize("refunded, amount, status", [
    ("0.00", "33.33", "Completed"), ("33.33", "33.33", "Completed"), ("66.66", "33.34", "Return"),
])
def test_partial_refunds_stay_completed_until_the_last_cent(refunded, amount, status):
    plan = rules.plan_refund(order("Completed", refunded=refunded), REFUNDER, [], amount=amount)
    assert plan.new_status == status


def test_manual_amount_on_an_order_with_items_needs_a_reason():
    with pytest.raises(InvalidInput, match="Enter a reason for an amount entered manually."):
        rules.plan_refund(order("Completed"), REFUNDER, LINES, amount="10", reason="  ")
    plan = rules.plan_refund(order("Completed"), REFUNDER, LINES, amount="10",
                             quantities={1: 1}, reason=" damaged ")
    assert (plan.amount, plan.quantities, plan.reason) == (D("10.00"), {1: 1}, "damaged")


def test_amount_without_items_needs_no_reason():
    plan = rules.plan_refund(order("Completed"), REFUNDER, [], amount="39,99")
    assert (plan.amount, plan.reason) == (D("39.99"), None)


@pytest.mark.parametrize("kwargs, error, message", [
    ({}, InvalidAmount, "Enter an amount."),
    ({"quantities": {1: 1}}, InvalidInput,
     "This order has no item lines; enter the refund amount instead."),
    ({"amount": "10", "reason": "x" * 501}, InvalidInput,
     "The reason is too long: at most 500 characters."),
])
def test_refund_without_items_refusals(kwargs, error, message):
    with pytest.raises(error) as err:
        rules.plan_refund(order("Completed"), REFUNDER, [], **kwargs)
    assert str(err.value) == message


@pytest.mark.parametrize("status, user, message", [
    ("Cancel", REFUNDER, "Cancelled orders cannot be refunded: Cancel is a final status."),
    ("Completed", VIEWER, "Your role (viewer) does not allow refunds; ask a refunder or an admin."),
])
def test_refund_plan_refused_by_status_or_role(status, user, message):
    with pytest.raises(RefundNotAllowed) as err:
        rules.plan_refund(order(status), user, [], amount="1")
    assert str(err.value) == message


def test_cancel_plan_refused_for_completed_and_for_viewer():
    with pytest.raises(CancelNotAllowed, match="refund them instead"):
        rules.plan_cancel(order("Completed"), ADMIN)
    with pytest.raises(CancelNotAllowed, match=r"Your role \(viewer\)"):
        rules.plan_cancel(order("Pending"), VIEWER)
    assert rules.plan_cancel(order("Pending"), REFUNDER, reason=" customer asked ") == (
        "customer asked")


# -- a new order's status --------------------------------------------------------------------------

@pytest.mark.parametrize("status, channel, refusal", [
    ("Pending", "online", None),
    ("Completed", "online", None),
    ("Completed", "offline", None),
    ("Return", "offline", None),
    ("Pending", "offline", "An offline order is never Pending: it is paid at the till."),
    ("Shipped", "online",
     "“Shipped” is not a status: use one of Pending, Completed, Cancel, Return."),
    ("Pending", "pos", "“pos” is not a channel: use one of online, offline."),
])
def test_an_offline_order_is_never_pending(status, channel, refusal):
    assert rules.start_refusal(status, channel) == refusal


@pytest.mark.parametrize("role, acts", [("viewer", False), ("refunder", True), ("admin", True)])
def test_the_page_offers_actions_to_exactly_the_roles_the_rules_let_act(role, acts):
    user = User("u", "U", "", "$2b$x", role)
    assert user.can_act is acts
    for action in rules.ACTIONS:
        assert (rules.role_refusal(user, action) is None) is acts
