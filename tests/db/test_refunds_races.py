"""Cancels and refunds racing in threads of one process, on both backends: concurrent refunds never over-refund, and a
cancel, a refund and a status sync never leave a Cancel with refunds. The orders and helpers are
``test_refunds``'s."""
from __future__ import annotations

import random
import threading

import pytest

from core import actions
from core.errors import (
    CancelNotAllowed,
    InvalidAmount,
    InvalidInput,
    RefundNotAllowed,
    WriteConflict,
)
from tests.db.test_refunds import (  # noqa: F401 (db is a fixture)
    ADMIN, D, REFUNDER, TZ, build, check_invariants, db, figures, key, line, order_row,
)


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


def test_twenty_threads_refunding_the_same_orders_never_over_refund(database_target):
    rnd = random.Random(7)
    database = build(
        database_target,
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
def test_two_concurrent_60s_on_a_100_order_exactly_one_succeeds(database_target, round_):
    database = build(database_target, [order_row(20, "100.00")])
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
def test_refund_and_cancel_racing_a_status_sync_never_leave_a_cancel_with_refunds(database_target,
                                                                                   round_):
    """A Pending order is completed by a status sync (as the importer does) while one session
    cancels it and another refunds it: whichever wins, the other is refused."""
    ids = list(range(30, 36))
    database = build(database_target, [order_row(i, "70.00", "Pending") for i in ids])

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
