"""A status sync racing refunds of the same orders, in separate OS processes on one PostgreSQL
database (``python -m core import`` while app replicas refund): whichever commits first, every
order ends in one consistent state and no refund is lost. (A DuckDB file is held by one process,
so this is PostgreSQL's.)"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from decimal import Decimal

import psycopg
import pytest

from core.db import open_database
from core.importer import import_files
from tests.backends import new_target
from tests.db.import_fixtures import order_row, store_row, write_files
from tests.db.test_refunds import ROOT

ORDERS = range(5001, 5401)  # 400 orders of 50.00, Completed, in store S1

REFUNDER = """
import json, random, sys, time, uuid
from zoneinfo import ZoneInfo
from core import actions
from core.db import open_database
from core.errors import OrderdeskError
from core.users import User

url, seed = sys.argv[1], int(sys.argv[2])
user = User("rafa", "Rafa", "", "$2b$x", "refunder", legal_entities=("LE1",))
rnd = random.Random(seed)
database = open_database(url)
print("ready", flush=True)
sys.stdin.readline()
done, refused, deadline = [], 0, time.monotonic() + 60
# Refund until the sync has made the orders final (every refund refused), so the refunds run
# before, during and after the import.
while refused < 20 and time.monotonic() < deadline:
    order_id = rnd.choice(range(5001, 5401))
    try:
        result = actions.refund_order(database, user, order_id, idempotency_key=str(uuid.uuid4()),
                                      amount="1.00", tz=ZoneInfo("UTC"))
    except OrderdeskError as exc:
        done.append([order_id, type(exc).__name__])
        refused += type(exc).__name__ == "RefundNotAllowed"
    else:
        done.append([order_id, result.event_id])
        refused = 0
database.close()
print(json.dumps(done), flush=True)
"""


@pytest.fixture
def synced(tmp_path, postgres_cluster):
    """A PostgreSQL database with the orders, and the file that syncs every one to Return."""
    url = new_target("postgresql", tmp_path, postgres_cluster)
    rows = [order_row(i, amount="50.00") for i in ORDERS]
    with open_database(url) as database:
        import_files(database, **write_files(tmp_path, stores=[store_row("S1")], orders=rows))
    sync = tmp_path / "sync"
    sync.mkdir()
    files = write_files(sync, orders=[order_row(i, amount="50.00", status="Return")
                                      for i in ORDERS])
    return url, files["orders"]


def test_a_status_sync_racing_refunds_loses_no_refund(synced, tmp_path):
    url, sync_file = synced
    env = {**os.environ, "ORDERDESK_DB": url, "ORDERDESK_USERS": str(tmp_path / "users.yaml")}
    refunders = [subprocess.Popen([sys.executable, "-c", REFUNDER, url, str(seed)], cwd=ROOT,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for seed in range(3)]
    for proc in refunders:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    importer = subprocess.Popen([sys.executable, "-m", "core", "import", "--orders",
                                 str(sync_file)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    for proc in refunders:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outcomes = []
    for proc in refunders:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outcomes += json.loads(out.strip().splitlines()[-1])
    out, err = importer.communicate(timeout=120)
    assert importer.returncode == 0, err
    assert "orders               0 added        400 updated" in out

    # A refund was either made before the sync (kept: the sync refunds the rest) or refused
    # after it (a Return is final); never lost, never doubled.
    assert {o for _, o in outcomes if isinstance(o, str)} <= {"RefundNotAllowed",
                                                              "WriteConflict"}, outcomes
    made = {event_id for _, event_id in outcomes if isinstance(event_id, int)}
    assert made and "RefundNotAllowed" in {o for _, o in outcomes}  # both sides of the race
    with open_database(url) as database, database.cursor() as cur:
        orders = cur.execute("SELECT order_id, status, amount, refunded_amount FROM orders"
                             ).fetchall()
        events = cur.execute("SELECT event_id, order_id, amount, username FROM order_events "
                             "WHERE kind = 'refund'").fetchall()
    assert made <= {event_id for event_id, *_ in events}
    for order_id, status, amount, refunded in orders:
        assert (status, refunded) == ("Return", amount), order_id
        mine = [(e, a, user) for e, o, a, user in events if o == order_id]
        assert sum((a for _, a, _ in mine), Decimal("0.00")) == amount, order_id
        # the app's refunds came first; the import's one refund is what was left
        assert [user for _, _, user in mine].count("import") == 1, order_id


def test_opening_the_database_waits_for_no_writer(synced):
    """``python -m core import`` (or a replica starting) opens the database read-write while a
    refund's transaction holds its order: the open neither waits for it nor takes a lock the
    refund will need next (that was a deadlock that stopped the import)."""
    url, _ = synced
    with psycopg.connect(url, autocommit=True) as refund:
        refund.execute("BEGIN")
        refund.execute("UPDATE orders SET refunded_amount = refunded_amount + 1 "
                       "WHERE order_id = 5001")
        opened = threading.Event()

        def open_and_close():
            with open_database(url):
                opened.set()

        opener = threading.Thread(target=open_and_close, daemon=True)
        opener.start()
        assert opened.wait(10), "the open waited for the refund's transaction"
        # the refund goes on to write its event and commits
        refund.execute("INSERT INTO order_events (order_id, kind, amount, username, created_at, "
                       "idempotency_key) "
                       "VALUES (5001, 'refund', 1.00, 'rafa', now(), 'k-opening')")
        refund.execute("COMMIT")
        opener.join(10)
