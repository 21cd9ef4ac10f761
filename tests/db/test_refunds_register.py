"""The Refunds register against a Python oracle on a real database: every refund in scope and none
outside, the totals exact in Decimal, every sort (both directions) and the walk over every page,
the filters (period of the refund's date, reason, who refunded), the search (refund ID too), and
imported refunds (an order's refunded amount its events do not cover).

Runs on a DuckDB file and on PostgreSQL.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core import actions
from core.db import open_database
from core.db import refunds as register
from core.query import OrderQuery
from core.refunds import IMPORTED, NOT_RECORDED, REASONS, SORT_LABELS, RefundQuery
from core.users import Scope, User
from tests.backends import BACKENDS, new_target
from tests.sample_data import sample_database

WARSAW = ZoneInfo("Europe/Warsaw")
UTC = ZoneInfo("UTC")
ZERO = Decimal("0.00")
SCOPES = {
    "admin": Scope.everything(),
    "one store": Scope(False, frozenset(), frozenset({"S03"})),
    "entity + store": Scope(False, frozenset({"Beta Sp. z o.o."}), frozenset({"S01"})),
}


@pytest.fixture(scope="module", params=BACKENDS)
def register_db(request, tmp_path_factory):
    """The sample with refunds made through core.actions (reasons, comments, users), an older
    event without a reason, and imported refunds (the sample's Return orders)."""
    cluster = (request.getfixturevalue("postgres_cluster") if request.param == "postgresql"
               else None)
    database, sample = sample_database(new_target(request.param, tmp_path_factory.mktemp("reg"),
                                                  cluster))
    rnd = random.Random(5)
    users = [User(name, name, f"{name}@x", "h", "admin") for name in ("anna", "bert")]
    completed = [o for o in sample.orders if o["status"] == "Completed"]
    with_items = {i["order_id"] for i in sample.items}
    for n, order in enumerate(completed[:60]):
        for k in range(1 + n % 2):
            actions.refund_order(
                database, users[(n + k) % 2], order["order_id"], idempotency_key=f"k{n}-{k}",
                amount=str(Decimal(rnd.randint(1, 500)) / 100),
                reason=f"note {n}" if n % 3 or n % 5 == 0 or order["order_id"] in with_items else None,
                reason_code=REASONS[n % len(REASONS)]
                if n % 5 else "Other", tz=WARSAW)
    with database.transaction() as cur:
        old = completed[70]
        cur.execute("UPDATE orders SET refunded_amount = refunded_amount + 3.00 "
                    "WHERE order_id = ?", [old["order_id"]])
        cur.execute("INSERT INTO order_events (order_id, kind, amount, reason, username, "
                    "created_at, idempotency_key) VALUES (?, 'refund', 3.00, 'old text', 'old', "
                    "TIMESTAMP '2026-03-01 12:00:00', 'old-1')", [old["order_id"]])
        # An order refunded partly by an import and partly here: both parts are listed.
        mixed = completed[0]
        cur.execute("UPDATE orders SET refunded_amount = refunded_amount + 1.11 "
                    "WHERE order_id = ?", [mixed["order_id"]])
        # Spread the app's refunds over the year, so that the period has work to do.
        cur.execute("UPDATE order_events SET created_at = TIMESTAMP '2026-01-01' "
                    "+ (event_id % 300) * INTERVAL '1 day' + (event_id % 7) * INTERVAL '1 hour' "
                    "WHERE idempotency_key LIKE 'k%'")
    yield database, sample
    database.close()


def oracle(database, sample, scope: Scope) -> list[dict]:
    """Every refund in scope, computed in Python from the tables' rows."""
    stores = {s["store_id"]: s for s in sample.stores}
    with database.cursor() as cur:
        orders = {r[0]: r for r in cur.execute(
            "SELECT order_id, refunded_amount, status, merchant_order_id, store_id, created_at "
            "FROM orders").fetchall()}
        events = cur.execute(
            "SELECT event_id, order_id, created_at, amount, reason_code, reason, username "
            "FROM order_events WHERE kind = 'refund'").fetchall()

    def visible(order_id):
        store = stores[orders[order_id][4]]
        return scope.all_orders or store["store_id"] in scope.stores or (
            store["legal_entity"] in scope.legal_entities)

    rows, covered = [], {}
    for event_id, order_id, at, amount, code, comment, user in events:
        covered[order_id] = covered.get(order_id, ZERO) + amount
        if visible(order_id):
            rows.append(dict(rk=event_id, event_id=event_id, order_id=order_id, at=at,
                             amount=amount, reason=code or NOT_RECORDED, comment=comment,
                             username=user))
    for order_id, (_, refunded, status, merchant, store_id, created) in orders.items():
        left = refunded - covered.get(order_id, ZERO)
        if left > 0 and visible(order_id):
            rows.append(dict(rk=-order_id, event_id=None, order_id=order_id, at=created,
                             amount=left, reason=IMPORTED, comment=None, username=None))
    for row in rows:
        order = orders[row["order_id"]]
        row.update(status=order[2], merchant_order_id=order[3],
                   store_name=stores[order[4]]["store_name"],
                   legal_entity=stores[order[4]]["legal_entity"])
    return rows


SORT_FIELD = {"Refund date": "at", "Refund ID": "event_id", "Order ID": "order_id",
              "Offline Barcode / Online order ID": "merchant_order_id",
              "Refund amount": "amount", "Reason": "reason", "Comment": "comment",
              "Refunded by": "username", "Store name": "store_name",
              "Legal entity": "legal_entity", "Order status": "status"}


def in_order(rows, sort, descending):
    """ORDER BY field NULLS LAST, rk — both in the chosen direction; texts by code point."""
    field = SORT_FIELD[sort]
    rows = sorted(rows, key=lambda r: r["rk"], reverse=descending)
    present = sorted((r for r in rows if r[field] is not None), key=lambda r: r[field],
                     reverse=descending)
    return present + [r for r in rows if r[field] is None]


def walk(database, scope, query):
    """Every page of the register, in order."""
    first = register.fetch_refund_page(database, scope, query, WARSAW, 1)
    rows = list(first.rows)
    pages = max(1, -(-first.total // 15))
    for page in range(2, pages + 1):
        result = register.fetch_refund_page(database, scope, query, WARSAW, page)
        assert (result.page, result.total, result.total_amount) == (
            page, first.total, first.total_amount)
        rows += result.rows
    return first, rows


def key(row):
    return (row.order_id, row.event_id or 0)


def ident(row: dict):
    return (row["order_id"], row["event_id"] or 0)


@pytest.mark.parametrize("scope_name", list(SCOPES))
def test_every_refund_in_scope_and_none_outside_with_exact_totals(register_db, scope_name):
    database, sample = register_db
    scope = SCOPES[scope_name]
    expected = oracle(database, sample, scope)
    first, rows = walk(database, scope, RefundQuery())
    assert first.total == len(expected) == len(rows)
    assert first.total_amount == sum((r["amount"] for r in expected), ZERO)
    assert sorted(key(r) for r in rows) == sorted(ident(r) for r in expected)
    assert register.count_refunds(database, scope, RefundQuery(), WARSAW) == (
        first.total, first.total_amount)
    # Every kind is there: reasons, the older event, imported rows (the mixed order twice).
    reasons = {r.reason for r in rows}
    if scope_name == "admin":
        assert {IMPORTED, NOT_RECORDED, "Other"} <= reasons


@pytest.mark.parametrize("sort", SORT_LABELS)
@pytest.mark.parametrize("descending", [True, False])
def test_every_sort_and_the_page_walk(register_db, sort, descending):
    database, sample = register_db
    scope = SCOPES["entity + store"]
    expected = in_order(oracle(database, sample, scope), sort, descending)
    _, rows = walk(database, scope, RefundQuery(sort=sort, descending=descending))
    assert [key(r) for r in rows] == [ident(r) for r in expected]
    # The export writes the same rows in the same order.
    exported = list(register.iter_refund_rows(
        database, scope, RefundQuery(sort=sort, descending=descending), WARSAW, batch_size=7))
    assert [(r[2], r[1]) for r in exported] == [(x.order_id, x.refund_id) for x in rows]


def test_filters_period_reason_refunded_by_and_store(register_db):
    database, sample = register_db
    scope = Scope.everything()
    everything = oracle(database, sample, scope)
    start, end = date(2026, 3, 1), date(2026, 5, 31)
    low = datetime(2026, 2, 28, 23)  # midnight in Warsaw (UTC+1 in winter), as stored (UTC)
    high = datetime(2026, 5, 31, 22)  # the end day's next midnight (UTC+2 in summer)
    query = RefundQuery(view=OrderQuery(start=start, end=end, stores=("S01", "S05")),
                        reasons=("Other", IMPORTED), refunded_by=())
    expected = [r for r in everything if low <= r["at"] < high and r["reason"] in (
        "Other", IMPORTED) and sample_store(sample, r["order_id"]) in ("S01", "S05")]
    _, rows = walk(database, scope, query)
    assert sorted(key(r) for r in rows) == sorted(ident(r) for r in expected)
    # Who refunded: imported refunds have nobody, so they drop out.
    by_anna = RefundQuery(refunded_by=("anna",))
    _, rows = walk(database, scope, by_anna)
    assert sorted(key(r) for r in rows) == sorted(
        ident(r) for r in everything if r["username"] == "anna")
    assert register.fetch_refunders(database, scope, WARSAW) == ("anna", "bert", "old")


def sample_store(sample, order_id):
    return next(o["store_id"] for o in sample.orders if o["order_id"] == order_id)


def test_search_by_refund_id_order_id_and_email(register_db):
    database, sample = register_db
    scope = Scope.everything()
    everything = oracle(database, sample, scope)
    event = next(r for r in everything if r["event_id"])
    for text in (f"R-{event['event_id']}", f"r{event['event_id']}"):
        _, rows = walk(database, scope, RefundQuery(search=text))
        assert [r.event_id for r in rows] == [event["event_id"]]
    _, rows = walk(database, scope, RefundQuery(search=str(event["order_id"])))
    assert sorted(key(r) for r in rows) == sorted(
        ident(r) for r in everything if r["order_id"] == event["order_id"])
    _, rows = walk(database, scope, RefundQuery(search="anna@wp"))
    emails = {o["order_id"] for o in sample.orders if o["email"] == "anna@wp.pl"}
    assert sorted(key(r) for r in rows) == sorted(
        ident(r) for r in everything if r["order_id"] in emails)
    # A refund ID outside the scope finds nothing.
    store_scope = SCOPES["one store"]
    outside = next(r for r in everything if r["event_id"] and sample_store(
        sample, r["order_id"]) != "S03")
    _, rows = walk(database, store_scope, RefundQuery(search=f"R-{outside['event_id']}"))
    assert rows == []


def test_a_page_past_the_end_is_clamped(register_db):
    database, sample = register_db
    scope = SCOPES["one store"]
    result = register.fetch_refund_page(database, scope, RefundQuery(), WARSAW, 999)
    assert result.page == max(1, -(-result.total // 15)) and result.rows


def test_the_overview_by_reason_adds_up_to_the_refunded_amount(register_db):
    database, sample = register_db
    scope = SCOPES["entity + store"]
    view = OrderQuery(start=date(2026, 1, 1), end=date(2026, 12, 31))
    by_reason = register.fetch_refunded_by_reason(database, scope, view, WARSAW)
    where, params = database.orders_where(scope, view, WARSAW)
    with database.cursor() as cur:
        (refunded,) = cur.execute(
            f"SELECT coalesce(sum(o.refunded_amount), 0) FROM orders o WHERE {where}",
            params).fetchone()
    assert sum((amount for _, _, amount in by_reason), ZERO) == refunded
    assert len({reason for reason, _, _ in by_reason}) == len(by_reason)


def test_a_refund_an_import_brings_is_imported_at_the_imports_time(database_target, tmp_path):
    """A status sync that refunds an order: its row reads "Imported", refunded by "import", dated
    when the import ran; found by the reason filter, and an older import's event (stored before
    imports recorded a reason) reads "Imported" too."""
    from core.importer import import_files
    from tests.db.import_fixtures import order_row, store_row, write_files

    with open_database(database_target) as database:
        import_files(database, **write_files(tmp_path, stores=[store_row("S1")],
                                             orders=[order_row(i, amount="40.00")
                                                     for i in (11, 12)]))
        before = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        sync = tmp_path / "sync"
        sync.mkdir()
        import_files(database, **write_files(sync, orders=[
            order_row(11, amount="40.00", refunded_amount="15.00"),
            order_row(12, amount="40.00", status="Return")]))
        with database.transaction() as cur:  # as an import of an older version stored it
            cur.execute("UPDATE order_events SET reason_code = NULL WHERE order_id = 12")
        admin = Scope.everything()
        page = register.fetch_refund_page(database, admin, RefundQuery(), UTC, 1)
        assert sorted((r.order_id, r.amount, r.reason, r.username) for r in page.rows) == [
            (11, Decimal("15.00"), IMPORTED, "import"), (12, Decimal("40.00"), IMPORTED, "import")]
        for row in page.rows:
            assert row.refund_id is not None
            moment = row.refunded_at.astimezone(timezone.utc).replace(tzinfo=None)
            assert before - timedelta(seconds=1) <= moment <= datetime.now(timezone.utc).replace(
                tzinfo=None)
        only = register.fetch_refund_page(database, admin, RefundQuery(reasons=(IMPORTED,)),
                                          UTC, 1)
        assert only.total == 2 and only.total_amount == Decimal("55.00")
        assert register.fetch_refund_page(database, admin, RefundQuery(reasons=("Other",)),
                                          UTC, 1).total == 0
