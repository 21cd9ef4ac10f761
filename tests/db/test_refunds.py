"""Cancels and refunds on both backends (a real DuckDB file, a real PostgreSQL database): exactly-once, nothing written by a refused action,
amounts that add up exactly, guarded writes that restate the status machine, role and scope
checked by the core. Races are in ``test_refunds_races``, broken-off writes and ``kill -9`` in
``test_refunds_failures``; both use the orders and helpers defined here."""
from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core import actions, status
from core.db import Database, open_database, writes
from core.errors import (
    CancelNotAllowed,
    InvalidAmount,
    InvalidInput,
    OrderdeskError,
    OrderNotFound,
    RefundNotAllowed,
)
from core.status import Action
from core.users import User
from tests.backends import BACKENDS, new_target
from tests.sample_data import Sample, load_sample

TZ = ZoneInfo("Europe/Warsaw")
D = Decimal
ROOT = Path(__file__).resolve().parents[2]

ADMIN = User("ada", "Ada", "", "$2b$x", "admin")
REFUNDER = User("rafa", "Rafa", "", "$2b$x", "refunder", legal_entities=("Alpha SRL",))
VIEWER = User("vera", "Vera", "", "$2b$x", "viewer", legal_entities=("Alpha SRL",))
OUTSIDER = User("olga", "Olga", "", "$2b$x", "refunder", legal_entities=("Beta Sp. z o.o.",))

STORES = [
    {"store_id": "S1", "store_name": "Store One", "store_address": "Street 1",
     "merchant_store_id": "M1", "brand": "Reserved", "legal_entity": "Alpha SRL",
     "region": "Bucharest", "zone": "RO"},
    {"store_id": "S2", "store_name": "Store Two", "store_address": "Street 2",
     "merchant_store_id": None, "brand": "Cropp", "legal_entity": "Beta Sp. z o.o.",
     "region": "Mazowieckie", "zone": "PL"},
]


def order_row(order_id, amount, status="Completed", *, store="S1", refunded="0.00",
              channel="online") -> dict:
    return {"order_id": order_id, "created_at": datetime(2026, 3, 1, 10, 0),
            "merchant_order_id": f"WEB-{order_id}", "amount": D(amount),
            "refunded_amount": D(refunded), "status": status, "channel": channel,
            "email": "anna@wp.pl", "phone": "+48 606 606 606", "store_id": store,
            "salesperson_id": None, "salesperson_name": None}


def line(order_id, line_no, name, quantity, price) -> dict:
    return {"order_id": order_id, "line_no": line_no, "name": name, "quantity": quantity,
            "unit_price": D(price)}


def build(target: Path | str, orders: list[dict], items: list[dict] = ()) -> Database:
    """A database of the test's backend (a DuckDB path or a PostgreSQL URL) with these rows."""
    database = open_database(target)
    load_sample(database, Sample(STORES, orders, list(items)))
    return database


def build_orders(target: Path | str) -> Database:
    """Orders 1 (no lines) and 2 (two lines) Completed 100.00 in scope of REFUNDER; 3 Pending;
    4 (three lines) out of REFUNDER's scope; 5 Cancel; 6 Return."""
    return build(
        target,
        [order_row(1, "100.00"), order_row(2, "100.00"), order_row(3, "50.00", "Pending"),
         order_row(4, "80.00", store="S2"), order_row(5, "40.00", "Cancel"),
         order_row(6, "25.00", "Return", refunded="25.00")],
        [line(2, 1, "Jacket", 2, "30.00"), line(2, 2, "Socks", 4, "10.00"),
         line(4, 1, "Hat", 2, "20.00"), line(4, 2, "Scarf", 1, "20.00"),
         line(4, 3, "Gloves", 1, "20.00")],
    )


@pytest.fixture
def db(database_target):
    database = build_orders(database_target)
    yield database
    database.close()


@pytest.fixture(scope="module", params=BACKENDS)
def refused_db(request, tmp_path_factory):
    """One database per backend for the tests whose action is refused: each proves it changed
    nothing. Order 2 has one Socks refunded already (10.00)."""
    cluster = (request.getfixturevalue("postgres_cluster") if request.param == "postgresql"
               else None)
    database = build_orders(new_target(request.param, tmp_path_factory.mktemp("refused"),
                                       cluster))
    actions.refund_order(database, REFUNDER, 2, idempotency_key=key(), items={2: 1}, tz=TZ)
    yield database
    database.close()


def key() -> str:
    return str(uuid.uuid4())


def snapshot(database: Database) -> tuple:
    with database.cursor() as cur:
        return tuple(
            cur.execute(sql).fetchall()
            for sql in ("SELECT * FROM orders ORDER BY order_id",
                        "SELECT * FROM order_items ORDER BY order_id, line_no",
                        "SELECT * FROM order_events ORDER BY event_id")
        )


def figures(database: Database, order_id: int) -> tuple[str, Decimal]:
    with database.cursor() as cur:
        return cur.execute("SELECT status, refunded_amount FROM orders WHERE order_id = ?",
                           [order_id]).fetchone()


def check_invariants(database: Database) -> None:
    """Every order: refunded ≤ captured, refund rows sum to it, lines agree with the refund rows,
    Return iff fully refunded, never Cancel with refunds."""
    with database.cursor() as cur:
        orders = cur.execute("SELECT order_id, amount, refunded_amount, status FROM orders"
                             ).fetchall()
        events = cur.execute("SELECT order_id, kind, amount, items FROM order_events").fetchall()
        lines = cur.execute("SELECT order_id, line_no, quantity, refunded_quantity "
                            "FROM order_items").fetchall()
    for order_id, amount, refunded, status in orders:
        mine = [e for e in events if e[0] == order_id]
        refunds = [e for e in mine if e[1] == "refund"]
        assert D("0") <= refunded <= amount, order_id
        assert sum((e[2] for e in refunds), D("0.00")) == refunded - initial_refund(order_id,
                                                                                   status, amount,
                                                                                   mine)
        assert (status == "Return") == (refunded == amount), order_id
        if status == "Cancel":
            assert refunded == 0 and not refunds, order_id
        assert not (refunds and any(e[1] == "cancel" for e in mine)), order_id
    for order_id, line_no, quantity, refunded_quantity in lines:
        from_events = sum(item["quantity"] for e in events if e[0] == order_id and e[3]
                          for item in json.loads(e[3]) if item["line_no"] == line_no)
        assert 0 <= refunded_quantity == from_events <= quantity, (order_id, line_no)


def initial_refund(order_id, status, amount, events) -> Decimal:
    # Loaded Return orders arrive fully refunded without refund rows (an import's figure).
    if status == "Return" and not any(e[1] == "refund" for e in events):
        return amount
    return D("0.00")

# -- exactly-once ----------------------------------------------------------------------------------

def test_same_key_twice_refunds_once_and_answers_with_the_first_refund(db):
    k = key()
    first = actions.refund_order(db, REFUNDER, 1, idempotency_key=k, amount="10,50", tz=TZ)
    again = actions.refund_order(db, REFUNDER, 1, idempotency_key=k, amount="10,50", tz=TZ)
    assert (first.already_processed, again.already_processed) == (False, True)
    assert again.event_id == first.event_id and again.reference == f"R-{first.event_id}"
    assert (again.amount, again.new_status, again.refunded_amount) == (
        D("10.50"), "Completed", D("10.50"))
    assert figures(db, 1) == ("Completed", D("10.50"))
    assert len(db.fetch_history(db.fetch_order(REFUNDER.scope, 1, TZ), TZ)) == 1


def test_double_click_from_several_threads_refunds_once(db):
    k, results, errors = key(), [], []
    barrier = threading.Barrier(6)

    def submit():
        barrier.wait()
        try:
            results.append(actions.refund_order(db, REFUNDER, 2, idempotency_key=k,
                                                items={1: 1}, tz=TZ))
        except OrderdeskError as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({r.event_id for r in results}) == 1
    assert sum(not r.already_processed for r in results) == 1
    assert figures(db, 2) == ("Completed", D("30.00"))
    check_invariants(db)


def test_a_key_used_for_one_order_is_refused_for_another(db):
    k = key()
    actions.refund_order(db, REFUNDER, 1, idempotency_key=k, amount="1", tz=TZ)
    before = snapshot(db)
    with pytest.raises(InvalidInput, match="already used for another action"):
        actions.refund_order(db, REFUNDER, 2, idempotency_key=k, amount="1", reason="x", tz=TZ)
    assert snapshot(db) == before

# -- refusals change nothing -----------------------------------------------------------------------

MORE_THAN_LEFT = "The refund of 100.01 is more than the refundable amount (100.00)."
BAD_REFUNDS = [
    (1, {"amount": "0"}, InvalidAmount, "The amount must be greater than zero."),
    (1, {"amount": "-5"}, InvalidAmount, "The amount must be greater than zero."),
    (1, {"amount": "0.001"}, InvalidAmount, "The amount can have at most 2 decimal places."),
    (1, {"amount": "1e3"}, InvalidAmount,
     "“1e3” is not an amount: use digits with at most 2 decimals, e.g. 339.99."),
    (1, {"amount": "NaN"}, InvalidAmount,
     "“NaN” is not an amount: use digits with at most 2 decimals, e.g. 339.99."),
    (1, {"amount": "inf"}, InvalidAmount,
     "“inf” is not an amount: use digits with at most 2 decimals, e.g. 339.99."),
    (1, {"amount": "abc"}, InvalidAmount,
     "“abc” is not an amount: use digits with at most 2 decimals, e.g. 339.99."),
    (1, {"amount": ""}, InvalidAmount, "Enter an amount."),
    (1, {}, InvalidAmount, "Enter an amount."),
    (1, {"amount": 12.5}, InvalidAmount, "Enter the amount as text, for example 339.99."),
    (1, {"amount": "100.01"}, InvalidAmount, MORE_THAN_LEFT),
    (2, {"amount": "90,01", "reason": "x"}, InvalidAmount,  # refundable now + 0.01
     "The refund of 90.01 is more than the refundable amount (90.00)."),
    (2, {"items": {1: 3}}, InvalidInput,
     "Only 2 of “Jacket” (line 1) can still be refunded; 3 were chosen."),
    (2, {"items": {3: 1}}, InvalidInput, "This order has no line 3."),  # order 4's line 3
    (2, {"items": {9: 1}}, InvalidInput, "This order has no line 9."),
    (2, {"items": {1: 0}}, InvalidInput,
     "Choose at least one item to refund (a quantity above 0)."),
    (2, {"items": {1: -1}}, InvalidInput, "The quantity of “Jacket” cannot be negative."),
    (2, {"amount": "10"}, InvalidInput, "Enter a reason for an amount entered manually."),
    (1, {"items": {1: 1}}, InvalidInput,
     "This order has no item lines; enter the refund amount instead."),
    (3, {"amount": "1"}, RefundNotAllowed,
     "Pending orders cannot be refunded: only Completed orders can be. Cancel it instead."),
    (5, {"amount": "1"}, RefundNotAllowed,
     "Cancelled orders cannot be refunded: Cancel is a final status."),
    (6, {"amount": "1"}, RefundNotAllowed,
     "The order is fully refunded: Return is a final status, nothing is left to refund."),
]


@pytest.mark.parametrize("order_id, kwargs, error, message", BAD_REFUNDS)
def test_bad_refund_gives_its_message_and_changes_nothing(refused_db, order_id, kwargs, error,
                                                        message):
    before = snapshot(refused_db)
    with pytest.raises(error) as err:
        actions.refund_order(refused_db, REFUNDER, order_id, idempotency_key=key(), tz=TZ,
                             **kwargs)
    assert str(err.value) == message
    assert snapshot(refused_db) == before


def test_a_quantity_above_what_is_left_after_earlier_refunds_is_refused(db):
    actions.refund_order(db, REFUNDER, 2, idempotency_key=key(), items={2: 3}, tz=TZ)
    before = snapshot(db)
    with pytest.raises(InvalidInput, match=r"Only 1 of “Socks” \(line 2\) can still be"):
        actions.refund_order(db, REFUNDER, 2, idempotency_key=key(), items={2: 2}, tz=TZ)
    assert snapshot(db) == before


@pytest.mark.parametrize("order_id, message", [
    (1, "Completed orders cannot be cancelled; refund them instead."),
    (5, "The order is already cancelled: Cancel is a final status."),
    (6, "Return orders cannot be cancelled: the order is fully refunded and Return is a final "
        "status."),
])
def test_cancel_refused_unless_pending_and_nothing_changes(refused_db, order_id, message):
    before = snapshot(refused_db)
    with pytest.raises(CancelNotAllowed) as err:
        actions.cancel_order(refused_db, REFUNDER, order_id, idempotency_key=key(), tz=TZ)
    assert str(err.value) == message
    assert snapshot(refused_db) == before

# -- amounts add up exactly ------------------------------------------------------------------------

def test_three_partial_refunds_of_a_third_end_in_return_exactly(db):
    results = [actions.refund_order(db, REFUNDER, 1, idempotency_key=key(), amount=a, tz=TZ)
               for a in ("33.33", "33,33", "33.34")]
    assert [r.new_status for r in results] == ["Completed", "Completed", "Return"]
    assert [r.refunded_amount for r in results] == [D("33.33"), D("66.66"), D("100.00")]
    assert figures(db, 1) == ("Return", D("100.00"))
    history = db.fetch_history(db.fetch_order(REFUNDER.scope, 1, TZ), TZ)
    assert [e.amount for e in history] == [D("33.33"), D("33.33"), D("33.34")]
    assert all(e.username == "rafa" for e in history)
    check_invariants(db)


def test_item_refund_records_lines_and_the_order_shows_them(db):
    result = actions.refund_order(db, REFUNDER, 2, idempotency_key=key(), items={1: 1, 2: 2},
                                  tz=TZ)
    assert (result.amount, result.new_status) == (D("50.00"), "Completed")
    items = db.fetch_items(db.fetch_order(REFUNDER.scope, 2, TZ))
    assert [(i.line_no, i.refunded_quantity) for i in items] == [(1, 1), (2, 2)]
    [event] = db.fetch_history(db.fetch_order(REFUNDER.scope, 2, TZ), TZ)
    assert event.items == [
        {"line_no": 1, "name": "Jacket", "quantity": 1, "unit_price": "30.00"},
        {"line_no": 2, "name": "Socks", "quantity": 2, "unit_price": "10.00"}]
    last = actions.refund_order(db, REFUNDER, 2, idempotency_key=key(), items={1: 1, 2: 2},
                                tz=TZ)
    assert (last.new_status, last.refunded_amount) == ("Return", D("100.00"))


def test_cancel_of_a_pending_order_is_recorded_with_who_and_why(db):
    result = actions.cancel_order(db, REFUNDER, 3, idempotency_key=key(),
                                  reason=" customer asked ", tz=TZ)
    assert (result.new_status, result.reference) == ("Cancel", f"C-{result.event_id}")
    [event] = db.fetch_history(db.fetch_order(REFUNDER.scope, 3, TZ), TZ)
    assert (event.kind, event.username, event.reason) == ("cancel", "rafa", "customer asked")
    assert figures(db, 3) == ("Cancel", D("0.00"))

# -- the guarded writes restate the status machine ------------------------------------------------

@pytest.mark.parametrize("order_status", status.STATUSES)
def test_the_guarded_writes_match_only_where_the_machine_allows_the_action(database_target,
                                                                            order_status):
    """Straight to ``core.db.writes``, without the rules: the guards alone refuse what the
    machine forbids, and what they write is where the machine leads."""
    refunded = "50.00" if order_status == "Return" else "0.00"
    database = build(database_target, [order_row(order_id, "50.00", order_status,
                                                       refunded=refunded) for order_id in (40, 41)])
    attempts = [
        (40, Action.REFUND, lambda event: writes.write_refund(database, event, {}, lambda: None)),
        (41, Action.CANCEL, lambda event: writes.write_cancel(database, event, lambda: None)),
    ]
    for order_id, action, write in attempts:
        amount = D("50.00") if action == Action.REFUND else D("0.00")
        event = writes.EventRow(order_id, action, amount, None, None, "ada", key())
        leads_to = status.action_leads_to(order_status, action)
        before = snapshot(database)
        if not leads_to:
            with pytest.raises(writes.GuardMissed):
                write(event)
            assert snapshot(database) == before, action
            continue
        stored = write(event)
        assert figures(database, order_id) == (stored.status, stored.refunded_amount)
        assert stored.status in leads_to, action
        # Everything refunded leads to the fully refunded status, a cancel to nothing refunded.
        assert (stored.status in status.ALL_REFUNDED) == (stored.refunded_amount == D("50.00"))
        assert writes.stored_event_id(database, event.idempotency_key) == stored.event_id
    check_invariants(database)
    database.close()

# -- role and scope are checked by the core --------------------------------------------------------

def test_viewer_identity_is_refused_by_the_core(refused_db):
    before = snapshot(refused_db)
    with pytest.raises(RefundNotAllowed, match=r"Your role \(viewer\) does not allow refunds"):
        actions.refund_order(refused_db, VIEWER, 1, idempotency_key=key(), amount="1", tz=TZ)
    with pytest.raises(CancelNotAllowed, match=r"Your role \(viewer\)"):
        actions.cancel_order(refused_db, VIEWER, 3, idempotency_key=key(), tz=TZ)
    assert snapshot(refused_db) == before


def test_out_of_scope_order_is_not_found_exactly_like_a_missing_one(db):
    before = snapshot(db)
    errors = []
    for order_id in (4, 999_999, "4; DROP TABLE orders", "-1"):
        with pytest.raises(OrderNotFound) as err:
            actions.refund_order(db, REFUNDER, order_id, idempotency_key=key(), amount="1",
                                 tz=TZ)
        errors.append(str(err.value))
        with pytest.raises(OrderNotFound):
            actions.cancel_order(db, REFUNDER, order_id, idempotency_key=key(), tz=TZ)
    assert set(errors) == {"Order not found"}
    with pytest.raises(OrderNotFound):
        actions.refund_order(db, OUTSIDER, 1, idempotency_key=key(), amount="1", tz=TZ)
    assert snapshot(db) == before
    # ... and in scope, the outsider can refund their own order.
    assert actions.refund_order(db, OUTSIDER, 4, idempotency_key=key(), items={3: 1},
                                tz=TZ).amount == D("20.00")
