"""Cancels and refunds on real DuckDB files: exactly-once, no over-refund under races, nothing
written by a refused or broken-off action, and a committed refund survives ``kill -9``."""
from __future__ import annotations

import contextlib
import json
import random
import subprocess
import sys
import threading
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core import actions
from core.errors import (
    ActionFailed,
    CancelNotAllowed,
    InvalidAmount,
    InvalidInput,
    OrderdeskError,
    OrderNotFound,
    RefundNotAllowed,
    WriteConflict,
)
from core.db import Database
from core.users import User
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


def order_row(order_id, amount, status="Completed", *, database="S1", refunded="0.00",
              channel="online") -> dict:
    return {"order_id": order_id, "created_at": datetime(2026, 3, 1, 10, 0),
            "merchant_order_id": f"WEB-{order_id}", "amount": D(amount),
            "refunded_amount": D(refunded), "status": status, "channel": channel,
            "email": "anna@wp.pl", "phone": "+48 606 606 606", "store_id": database,
            "salesperson_id": None, "salesperson_name": None}


def line(order_id, line_no, name, quantity, price) -> dict:
    return {"order_id": order_id, "line_no": line_no, "name": name, "quantity": quantity,
            "unit_price": D(price)}


def build(path: Path, orders: list[dict], items: list[dict] = ()) -> Database:
    database = Database(path)
    load_sample(database, Sample(STORES, orders, list(items)))
    return database


def build_orders(path: Path) -> Database:
    """Orders 1 (no lines) and 2 (two lines) Completed 100.00 in scope of REFUNDER; 3 Pending;
    4 (three lines) out of REFUNDER's scope; 5 Cancel; 6 Return."""
    return build(
        path,
        [order_row(1, "100.00"), order_row(2, "100.00"), order_row(3, "50.00", "Pending"),
         order_row(4, "80.00", database="S2"), order_row(5, "40.00", "Cancel"),
         order_row(6, "25.00", "Return", refunded="25.00")],
        [line(2, 1, "Jacket", 2, "30.00"), line(2, 2, "Socks", 4, "10.00"),
         line(4, 1, "Hat", 2, "20.00"), line(4, 2, "Scarf", 1, "20.00"),
         line(4, 3, "Gloves", 1, "20.00")],
    )


@pytest.fixture
def db(tmp_path):
    database = build_orders(tmp_path / "orders.duckdb")
    yield database
    database.close()


@pytest.fixture(scope="module")
def refused_db(tmp_path_factory):
    """One database for the tests whose action is refused: each proves it changed nothing.
    Order 2 has one Socks refunded already (10.00)."""
    database = build_orders(tmp_path_factory.mktemp("refused") / "orders.duckdb")
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


# -- races ----------------------------------------------------------------------------------------

def run_together(*calls) -> list:
    """Start every call at the same moment in its own thread; their results or errors."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def worker(i, call):
        barrier.wait()
        try:
            outcomes[i] = call()
        except Exception as exc:  # noqa: BLE001 - the caller inspects every outcome
            outcomes[i] = exc

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_twenty_threads_refunding_the_same_orders_never_over_refund(tmp_path):
    rnd = random.Random(7)
    database = build(
        tmp_path / "race.duckdb",
        [order_row(10, "100.00"), order_row(11, "55.55"), order_row(12, "100.00"),
         order_row(13, "60.00")],
        [line(12, 1, "Jacket", 2, "30.00"), line(12, 2, "Socks", 4, "10.00"),
         line(13, 1, "Hat", 3, "20.00")],
    )
    lines = {12: {1: 2, 2: 4}, 13: {1: 3}}
    outcomes: list = []
    lock = threading.Lock()
    barrier = threading.Barrier(20)

    def refunder(seed: int) -> None:
        r = random.Random(seed)
        barrier.wait()
        for _ in range(5):
            order_id = r.choice([10, 11, 12, 13])
            kwargs: dict = {}
            if order_id in lines and r.random() < 0.7:
                no = r.choice(list(lines[order_id]))
                kwargs["items"] = {no: r.randint(1, 2)}
            else:
                kwargs["amount"] = f"{r.randint(1, 4000) / 100:.2f}"
                kwargs["reason"] = "goodwill"
            try:
                result = actions.refund_order(database, ADMIN, order_id, idempotency_key=key(),
                                              tz=TZ, **kwargs)
            except (RefundNotAllowed, InvalidInput, WriteConflict) as exc:
                result = exc
            with lock:
                outcomes.append((order_id, result))

    threads = [threading.Thread(target=refunder, args=(rnd.random(),)) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(outcomes) == 100
    unexpected = [o for _, o in outcomes if isinstance(o, Exception)
                  and not isinstance(o, (RefundNotAllowed, InvalidInput, WriteConflict))]
    assert not unexpected
    successes = [(oid, o) for oid, o in outcomes if isinstance(o, actions.ActionResult)]
    assert successes, "no refund went through at all"
    for order_id in (10, 11, 12, 13):
        status, refunded = figures(database, order_id)
        reported = sum((o.amount for oid, o in successes if oid == order_id), D("0.00"))
        assert reported == refunded, order_id  # every reported success is stored, nothing else
    check_invariants(database)
    database.close()


@pytest.mark.parametrize("round_", range(4))
def test_two_concurrent_60s_on_a_100_order_exactly_one_succeeds(tmp_path, round_):
    database = build(tmp_path / "r.duckdb", [order_row(20, "100.00")])
    outcomes = run_together(
        *[lambda: actions.refund_order(database, REFUNDER, 20, idempotency_key=key(),
                                       amount="60.00", tz=TZ)] * 2
    )
    wins = [o for o in outcomes if isinstance(o, actions.ActionResult)]
    losses = [o for o in outcomes if not isinstance(o, actions.ActionResult)]
    assert len(wins) == 1 and len(losses) == 1
    assert isinstance(losses[0], (InvalidAmount, WriteConflict)), losses[0]
    assert figures(database, 20) == ("Completed", D("60.00"))
    check_invariants(database)
    database.close()


@pytest.mark.parametrize("round_", range(3))
def test_refund_and_cancel_racing_a_status_sync_never_leave_a_cancel_with_refunds(tmp_path,
                                                                                   round_):
    """A Pending order is completed by a status sync (as the importer does) while one session
    cancels it and another refunds it: whichever wins, the other is refused."""
    ids = list(range(30, 36))
    database = build(tmp_path / "c.duckdb", [order_row(i, "70.00", "Pending") for i in ids])

    def sync(order_id):
        with database.transaction() as cur:
            cur.execute("UPDATE orders SET status = 'Completed' WHERE order_id = ? "
                        "AND status = 'Pending'", [order_id])

    for order_id in ids:
        outcomes = run_together(
            lambda: sync(order_id),
            lambda: actions.cancel_order(database, REFUNDER, order_id, idempotency_key=key(),
                                         tz=TZ),
            lambda: actions.refund_order(database, REFUNDER, order_id, idempotency_key=key(),
                                         amount="70.00", tz=TZ),
        )
        synced, cancelled, refunded = outcomes
        assert synced is None or isinstance(synced, WriteConflict), repr(synced)  # lost to cancel
        for outcome in (cancelled, refunded):
            assert isinstance(outcome, (actions.ActionResult, CancelNotAllowed,
                                        RefundNotAllowed, WriteConflict)), repr(outcome)
        # Cancel and refund are never both successful on one order.
        assert not (isinstance(cancelled, actions.ActionResult)
                    and isinstance(refunded, actions.ActionResult))
        status, amount = figures(database, order_id)
        if isinstance(cancelled, actions.ActionResult):
            assert (status, amount) == ("Cancel", D("0.00"))
        if isinstance(refunded, actions.ActionResult):
            assert (status, amount) == ("Return", D("70.00"))
    check_invariants(database)
    database.close()


def test_cancel_and_refund_at_once_on_a_completed_order(db):
    cancel, refund = run_together(
        lambda: actions.cancel_order(db, REFUNDER, 1, idempotency_key=key(), tz=TZ),
        lambda: actions.refund_order(db, REFUNDER, 1, idempotency_key=key(), amount="5", tz=TZ),
    )
    assert isinstance(cancel, CancelNotAllowed)
    assert isinstance(refund, actions.ActionResult)
    check_invariants(db)


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


# -- a failure midway writes nothing ---------------------------------------------------------------

def boom() -> None:
    raise RuntimeError("disk on fire")


@pytest.mark.parametrize("call, message", [
    (lambda db: actions.refund_order(db, REFUNDER, 2, idempotency_key="k-fail", items={1: 1},
                                     tz=TZ),
     "The refund failed and nothing was refunded; the order is unchanged. Please try again."),
    (lambda db: actions.cancel_order(db, REFUNDER, 3, idempotency_key="k-fail", tz=TZ),
     "The cancel failed and the order was not cancelled; the order is unchanged. "
     "Please try again."),
])
def test_failure_between_writes_writes_nothing_and_says_it_failed(db, monkeypatch, call,
                                                                  message):
    before = snapshot(db)
    monkeypatch.setattr(actions, "_between_writes", boom)
    with pytest.raises(ActionFailed) as err:
        call(db)
    assert str(err.value) == message
    assert snapshot(db) == before
    monkeypatch.setattr(actions, "_between_writes", lambda: None)
    assert call(db).already_processed is False  # the same form, retried, now goes through


def silently_rolled_back(times: int):
    """``Store.transaction`` whose COMMIT returns without error while nothing is kept, the first
    ``times`` times — what DuckDB does after some conflicts (docs/stack-facts.md, DuckDB)."""
    original = Database.transaction
    calls: list[int] = []

    @contextlib.contextmanager
    def transaction(self):
        if len(calls) >= times:
            with original(self) as cur:
                yield cur
            return
        calls.append(1)
        with self.cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            yield cur
            cur.execute("ROLLBACK")

    return transaction, calls


def test_success_is_reported_only_for_a_refund_really_stored(db, monkeypatch):
    transaction, calls = silently_rolled_back(times=1)
    monkeypatch.setattr(Database, "transaction", transaction)
    result = actions.refund_order(db, REFUNDER, 1, idempotency_key=key(), amount="7", tz=TZ)
    assert len(calls) == 1 and not result.already_processed
    assert figures(db, 1) == ("Completed", D("7.00"))
    assert [e.event_id for e in db.fetch_history(db.fetch_order(REFUNDER.scope, 1, TZ), TZ)] == [result.event_id]


def test_a_refund_never_stored_is_reported_as_not_done(db, monkeypatch):
    before = snapshot(db)
    transaction, _ = silently_rolled_back(times=actions.MAX_ATTEMPTS)
    monkeypatch.setattr(Database, "transaction", transaction)
    with pytest.raises(WriteConflict, match="nothing was refunded"):
        actions.refund_order(db, REFUNDER, 1, idempotency_key=key(), amount="7", tz=TZ)
    assert snapshot(db) == before


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


# -- durability ------------------------------------------------------------------------------------

KILLED_REFUND = """
import os, signal, sys
from zoneinfo import ZoneInfo
from core import actions
from core.db import Database
from core.users import User
database = Database(sys.argv[1])
user = User("rafa", "Rafa", "", "$2b$x", "refunder", legal_entities=("Alpha SRL",))
result = actions.refund_order(database, user, 1, idempotency_key="k-killed", amount="12.34",
                              tz=ZoneInfo("UTC"))
print(result.event_id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_refund_committed_before_kill_9_is_there_after_a_restart(db):
    path = db.path
    db.close()
    proc = subprocess.run([sys.executable, "-c", KILLED_REFUND, str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9, proc.stderr
    event_id = int(proc.stdout.strip())
    with Database(path) as reopened:
        assert figures(reopened, 1) == ("Completed", D("12.34"))
        [event] = reopened.fetch_history(reopened.fetch_order(REFUNDER.scope, 1, TZ), TZ)
        assert (event.event_id, event.amount) == (event_id, D("12.34"))
        again = actions.refund_order(reopened, REFUNDER, 1, idempotency_key="k-killed",
                                     amount="12.34", tz=TZ)
        assert again.already_processed and again.event_id == event_id
