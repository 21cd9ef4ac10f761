"""Cancels and refunds racing in separate OS processes on one PostgreSQL database, as app replicas
do: the sum of an order's refunds never exceeds its amount, one idempotency key stores one event,
and a cancel and a refund never both succeed on one order. (A DuckDB file is held by one process,
so these are PostgreSQL's.) The orders and helpers are ``test_refunds``'s."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.db.test_refunds import (
    D, ROOT, build, check_invariants, figures, line, order_row,
)
from tests.backends import new_target

WORKER = """
import json, random, sys, uuid
from zoneinfo import ZoneInfo
from core import actions
from core.db import open_database
from core.errors import OrderdeskError
from core.users import User

url, seed, shared_key = sys.argv[1], int(sys.argv[2]), sys.argv[3]
user = User("rafa", "Rafa", "", "$2b$x", "refunder", legal_entities=("Alpha SRL",))
rnd = random.Random(seed)
database = open_database(url)
print("ready", flush=True)
sys.stdin.readline()  # every process starts at once

def outcome(call):
    try:
        result = call()
    except OrderdeskError as exc:
        return [type(exc).__name__, None, None]
    return ["ok", result.event_id, result.already_processed]

tz = ZoneInfo("UTC")
out = {"shared": outcome(lambda: actions.refund_order(
    database, user, 11, idempotency_key=shared_key, amount="20.00", tz=tz))}
out["pending"] = outcome(lambda: (actions.cancel_order if seed % 2 else actions.refund_order)(
    database, user, 14, idempotency_key=str(uuid.uuid4()), tz=tz,
    **({} if seed % 2 else {"amount": "1.00"})))
out["refunds"] = []
for _ in range(12):
    if rnd.random() < 0.5:
        call = lambda: actions.refund_order(
            database, user, 10, idempotency_key=str(uuid.uuid4()),
            amount=rnd.choice(["10.00", "33.33", "25.00", "7.77"]), tz=tz)
    else:
        call = lambda: actions.refund_order(
            database, user, 12, idempotency_key=str(uuid.uuid4()),
            items={rnd.choice([1, 2]): 1}, tz=tz)
    out["refunds"].append(outcome(call))
database.close()
print(json.dumps(out), flush=True)
"""

PROCESSES = 4


@pytest.fixture
def pg_target(tmp_path, postgres_cluster):
    return new_target("postgresql", tmp_path, postgres_cluster)


def run_processes(url: str, shared_key: str) -> list[dict]:
    """``PROCESSES`` workers, released together once every one has opened the database."""
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, url, str(seed), shared_key],
                              cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for seed in range(PROCESSES)]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_refunds_from_several_processes_never_exceed_the_amount_and_a_key_stores_once(pg_target):
    database = build(pg_target, [
        order_row(10, "100.00"), order_row(11, "100.00"), order_row(12, "100.00"),
        order_row(14, "50.00", "Pending"),
    ], [line(12, 1, "Jacket", 2, "30.00"), line(12, 2, "Socks", 4, "10.00")])
    results = run_processes(pg_target, "k-shared-form")

    # The same opened form submitted from every process refunds once.
    shared = [r["shared"] for r in results]
    assert all(kind == "ok" for kind, _, _ in shared), shared
    assert len({event_id for _, event_id, _ in shared}) == 1
    assert sum(not already for _, _, already in shared) == 1
    assert figures(database, 11) == ("Completed", D("20.00"))
    with database.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM order_events WHERE idempotency_key = ?",
                           ["k-shared-form"]).fetchone()[0] == 1

    # Refunds racing on one order: each refused one for a reason a user is shown, never more
    # than the amount, and what succeeded is exactly what is refunded.
    outcomes = [o for r in results for o in r["refunds"]]
    assert {kind for kind, _, _ in outcomes} <= {"ok", "InvalidAmount", "InvalidInput",
                                                 "RefundNotAllowed", "WriteConflict"}, outcomes
    assert any(kind == "ok" for kind, _, _ in outcomes)
    with database.cursor() as cur:
        succeeded = {row[0] for row in cur.execute(
            "SELECT event_id FROM order_events WHERE order_id IN (10, 12)").fetchall()}
    assert succeeded == {event_id for kind, event_id, _ in outcomes if kind == "ok"}

    # A cancel and a refund of one Pending order from different processes: one kind wins.
    pending = [r["pending"] for r in results]
    status, refunded = figures(database, 14)
    assert status == "Cancel" and refunded == D("0.00")  # a Pending order is not refundable
    assert sum(kind == "ok" for kind, _, _ in pending) == 1, pending
    check_invariants(database)
    database.close()
