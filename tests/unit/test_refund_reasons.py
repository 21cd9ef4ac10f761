"""The refund reasons' rules as a table (core.refunds), and how plan_refund applies them."""
from __future__ import annotations

from decimal import Decimal

import pytest

from core import rules
from core.errors import InvalidInput
from core.refunds import (
    IMPORTED,
    NOT_RECORDED,
    REASONS,
    REGISTER_REASONS,
    RefundQuery,
    check_refund_reason,
    comment_required,
    from_url_params,
    items_text,
    refund_id_of,
    shown_reason,
    to_url_params,
)
from core.query import OrderQuery

MANUAL_NEEDS = "Enter a comment: it is required for an amount entered manually."
OTHER_NEEDS = "Enter a comment: it is required for the reason “Other”."

# (reason, comment, manual) → (reason, comment) stored, or the refusal
TABLE = [
    ("Goods returned", None, False, ("Goods returned", None)),
    ("Goods returned", "  ", False, ("Goods returned", None)),
    ("Damaged or defective", " cracked ", False, ("Damaged or defective", "cracked")),
    ("Price adjustment", None, True, MANUAL_NEEDS),
    ("Price adjustment", "late", True, ("Price adjustment", "late")),
    ("Other", None, False, OTHER_NEEDS),
    ("Other", "", True, MANUAL_NEEDS),
    ("Other", "asked", False, ("Other", "asked")),
    ("", "text", False, "Choose a reason for the refund."),
    (None, "text", False, "Choose a reason for the refund."),
    ("Imported", None, False, "“Imported” is not a refund reason: choose one of the list."),
    ("Suspected fraud", "x" * 501, False, "The comment is too long: at most 500 characters."),
    ("Suspected fraud", 5, False, "The comment must be text."),
]


@pytest.mark.parametrize("reason, comment, manual, outcome", TABLE)
def test_reason_rules(reason, comment, manual, outcome):
    if isinstance(outcome, str):
        with pytest.raises(InvalidInput) as refused:
            check_refund_reason(reason, comment, manual=manual)
        assert str(refused.value) == outcome
    else:
        assert check_refund_reason(reason, comment, manual=manual) == outcome


def test_the_fixed_list_and_the_registers_reasons():
    assert REASONS == ("Goods returned", "Goods not delivered", "Damaged or defective",
                       "Duplicate order", "Price adjustment", "Suspected fraud", "Other")
    assert REGISTER_REASONS == (*REASONS, IMPORTED, NOT_RECORDED)
    assert [r for r in REASONS if comment_required(r, manual=False)] == ["Other"]
    assert all(comment_required(r, manual=True) for r in REASONS)
    assert shown_reason(None) == NOT_RECORDED and shown_reason("Other") == "Other"


class Order:
    status, captured_amount, refunded_amount = "Completed", Decimal("100.00"), Decimal("0.00")


class Actor:
    role = "refunder"


def test_plan_refund_carries_the_reason_and_the_older_api_still_works():
    plan = rules.plan_refund(Order(), Actor(), [], amount="5", reason=" box ",
                             reason_code="Goods returned")
    assert (plan.reason_code, plan.reason) == ("Goods returned", "box")
    legacy = rules.plan_refund(Order(), Actor(), [], amount="5", reason="typed")
    assert (legacy.reason_code, legacy.reason) == (None, "typed")
    with pytest.raises(InvalidInput, match="Choose a reason"):
        rules.plan_refund(Order(), Actor(), [], amount="5", reason_code="")


@pytest.mark.parametrize("text, found", [
    ("R-1000123", 1000123), ("r1000123", 1000123), ("R- 55", 55), ("1000123", 1000123),
    ("+48 600", 48600), ("anna@wp.pl", None), ("R-", None), ("WEB-12", None), ("", None),
])
def test_refund_id_of_a_search(text, found):
    assert refund_id_of(text) == found


def test_items_text():
    assert items_text([{"name": "Jacket", "quantity": 2}, {"name": "Belt", "quantity": 1}]) == (
        "2 × Jacket, 1 × Belt")
    assert items_text(None) == ""


def test_url_round_trip_and_ignored_values():
    query = RefundQuery(reasons=("Other", IMPORTED), refunded_by=("anna",), search="R-5",
                        sort="Refund amount", descending=False)
    params = {k: v if isinstance(v, list) else [v] for k, v in to_url_params(query, 3).items()}
    back, page, problems = from_url_params(params, OrderQuery(), ("anna",))
    assert (back, page, problems) == (query, 3, [])
    _, page, problems = from_url_params({"reason": ["Nope"], "by": ["eve"], "rsort": ["Items"],
                                         "rpage": ["x"]}, OrderQuery(), ("anna",))
    assert page == 1 and len(problems) == 4


def test_words_for_the_export_info():
    query = RefundQuery(view=OrderQuery(stores=("S01",)), reasons=("Other",))
    assert query.describe_filters() == "Store: S01; Reason: Other"
    assert RefundQuery().describe_sort() == "Refund date, newest first"
