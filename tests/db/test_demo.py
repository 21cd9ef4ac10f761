"""The demo data set on real DuckDB files: deterministic, complete for the product, and consistent
with every rule of orders, item lines and refunds; on PostgreSQL the same rows (the generator is
DuckDB's SQL there too), replaced in one go like on DuckDB."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
from decimal import Decimal
from urllib.parse import urlsplit

import bcrypt
import pytest

from core.demo import (
    DEMO_USERS,
    FIRST_ORDER_ID,
    PENDING_DAYS,
    build_demo,
    demo_period,
    write_demo_users,
)
from core.errors import InvalidInput
from core.db import Database, open_database
from core.users import check_password, load_users
from scripts import pgcluster

TODAY = dt.date(2026, 3, 15)
START, END = demo_period(TODAY, 12)
ORDERS = 5_000
TABLES = {
    "stores": "store_id",
    "orders": "order_id",
    "order_items": "order_id, line_no",
    "order_events": "event_id",
}


def _dump(database: Database) -> dict[str, list[tuple]]:
    with database.cursor() as cur:
        return {
            table: cur.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()
            for table, key in TABLES.items()
        }


def _one(database: Database, sql: str, params: list | None = None):
    with database.cursor() as cur:
        return cur.execute(sql, params or []).fetchone()[0]


def _all(database: Database, sql: str, params: list | None = None) -> list[tuple]:
    with database.cursor() as cur:
        return cur.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One default-shaped demo of 5,000 orders, read by most tests (none of them writes)."""
    database = Database(tmp_path_factory.mktemp("demo") / "orders.duckdb")
    summary = build_demo(database, orders=ORDERS, seed=7, today=TODAY)
    yield database, summary
    database.close()


def test_same_arguments_build_identical_tables_and_another_seed_does_not(demo, tmp_path):
    database, _ = demo
    with Database(tmp_path / "again.duckdb") as again:
        build_demo(again, orders=ORDERS, seed=7, today=TODAY)
        assert _dump(again) == _dump(database)
    with Database(tmp_path / "other.duckdb") as other:
        build_demo(other, orders=ORDERS, seed=8, today=TODAY)
        other_tables = _dump(other)
    assert other_tables["orders"] != _dump(database)["orders"]
    # Stores do not depend on the seed: the demo users' scopes hold for every seed.
    assert other_tables["stores"] == _dump(database)["stores"]


def test_summary_counts_what_was_written(demo):
    database, summary = demo
    assert summary.orders == ORDERS == _one(database, "SELECT count(*) FROM orders")
    assert summary.stores == 40 == _one(database, "SELECT count(*) FROM stores")
    assert summary.legal_entities == 4
    assert summary.items == _one(database, "SELECT count(*) FROM order_items")
    assert summary.refunds == _one(database, "SELECT count(*) FROM orders WHERE refunded_amount > 0")


def test_covers_what_the_product_shows(demo):
    database, _ = demo
    assert _one(database, "SELECT count(DISTINCT legal_entity) FROM stores") >= 3
    assert _one(database, "SELECT count(*) FROM stores") >= 30
    assert _one(database, "SELECT count(DISTINCT region) FROM stores") >= 4
    assert _one(database, "SELECT count(DISTINCT zone) FROM stores") >= 2
    assert {r[0] for r in _all(database, "SELECT DISTINCT status FROM orders")} == {
        "Pending", "Completed", "Cancel", "Return"}
    channels = {r[0] for r in _all(database, "SELECT DISTINCT channel FROM orders")}
    assert channels == {"online", "offline"}
    # Every store sells, most of them report item lines, a few do not.
    assert _one(database, "SELECT count(DISTINCT store_id) FROM orders") == 40
    stores_with_items = _one(database, """
        SELECT count(DISTINCT o.store_id) FROM orders o JOIN order_items i USING (order_id)""")
    assert 0.7 * 40 <= stores_with_items < 40
    # Partial refunds, with item lines and without.
    partial = """SELECT count(*) FROM orders o WHERE status = 'Completed'
                 AND refunded_amount > 0 AND refunded_amount < amount
                 AND {} EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.order_id)"""
    assert _one(database, partial.format("")) > 0
    assert _one(database, partial.format("NOT")) > 0
    # Realistic proportions: about 60/40 channels, ~5% Cancel, ~4% Return.
    online = _one(database, "SELECT avg((channel = 'online')::INT) FROM orders")
    assert 0.55 < online < 0.65
    assert 0.03 < _one(database, "SELECT avg((status = 'Cancel')::INT) FROM orders") < 0.07
    assert 0.025 < _one(database, "SELECT avg((status = 'Return')::INT) FROM orders") < 0.055


def test_each_legal_entity_has_one_zone_and_stores_look_real(demo):
    database, _ = demo
    assert _all(database, """SELECT legal_entity FROM stores GROUP BY legal_entity
                          HAVING count(DISTINCT zone) <> 1""") == []
    rows = _all(database, """SELECT store_id, store_name, merchant_store_id, brand FROM stores
                          ORDER BY store_id""")
    assert [r[0] for r in rows] == [f"S{n:03d}" for n in range(1, 41)]
    assert {r[3] for r in rows} == {"Reserved", "Cropp", "House", "Mohito", "Sinsay"}
    assert len({r[1] for r in rows}) == 40
    web = [r for r in rows if r[2] and r[2].startswith("WEB-")]
    assert web and all(" Online " in r[1] or " App " in r[1] or " Marketplace " in r[1]
                       for r in web)
    assert any(r[2] is None for r in rows)  # some offline stores report no ID of their own


INVARIANTS = {
    "offline orders are never Pending":
        "SELECT order_id FROM orders WHERE status = 'Pending' AND channel <> 'online'",
    "Pending orders are recent": f"""
        SELECT order_id FROM orders WHERE status = 'Pending'
        AND created_at < TIMESTAMP '{END}' - INTERVAL {PENDING_DAYS} DAY""",
    "Cancel orders are online and unrefunded":
        """SELECT order_id FROM orders
           WHERE status = 'Cancel' AND (channel <> 'online' OR refunded_amount <> 0)""",
    "Return is refunded in full":
        "SELECT order_id FROM orders WHERE status = 'Return' AND refunded_amount <> amount",
    "only Completed orders are refunded in part": """
        SELECT order_id FROM orders WHERE refunded_amount > 0 AND refunded_amount < amount
        AND status <> 'Completed'""",
    "refunded amount equals the refund events": """
        SELECT o.order_id FROM orders o
        LEFT JOIN (SELECT order_id, sum(amount) AS total FROM order_events WHERE kind = 'refund'
                   GROUP BY order_id) e USING (order_id)
        WHERE o.refunded_amount <> coalesce(e.total, 0)""",
    "item orders: amount equals the lines": """
        SELECT o.order_id FROM orders o
        JOIN (SELECT order_id, sum(quantity * unit_price) AS total FROM order_items
              GROUP BY order_id) i USING (order_id)
        WHERE o.amount <> i.total""",
    "item orders: refunded equals the refunded units": """
        SELECT o.order_id FROM orders o
        JOIN (SELECT order_id, sum(refunded_quantity * unit_price) AS total FROM order_items
              GROUP BY order_id) i USING (order_id)
        WHERE o.refunded_amount <> i.total""",
    "item lines are numbered from 1 without gaps": """
        SELECT order_id FROM order_items GROUP BY order_id
        HAVING min(line_no) <> 1 OR max(line_no) <> count(*) OR count(*) > 4""",
    "item lines: realistic quantities and prices": """
        SELECT order_id FROM order_items
        WHERE quantity NOT BETWEEN 1 AND 3 OR unit_price <= 0 OR refunded_quantity > quantity""",
    "amounts are realistic": "SELECT order_id FROM orders WHERE amount NOT BETWEEN 5 AND 3000",
    "created_at lies in the period": f"""
        SELECT order_id FROM orders
        WHERE created_at < TIMESTAMP '{START}' OR created_at >= TIMESTAMP '{END}'""",
    "order IDs are consecutive and follow the order date": f"""
        SELECT order_id FROM (
            SELECT order_id, row_number() OVER (ORDER BY created_at, order_id) AS n FROM orders)
        WHERE order_id <> {FIRST_ORDER_ID - 1} + n""",
    "each refunded order has one refund event": """
        SELECT order_id FROM order_events WHERE kind = 'refund' GROUP BY order_id
        HAVING count(*) <> 1""",
    "refund events are written like the app writes them": f"""
        SELECT e.order_id FROM order_events e JOIN orders o USING (order_id)
        WHERE e.kind = 'refund' AND (e.amount <= 0 OR e.username <> 'demo'
            OR e.reason_code IS NULL OR coalesce(e.reason, '') = ''
            OR e.idempotency_key <> 'demo-refund-' || o.order_id
            OR e.created_at <= o.created_at OR e.created_at >= TIMESTAMP '{END}')""",
    "each Cancel order, and only it, has one cancel event of 0": """
        SELECT o.order_id FROM orders o FULL JOIN (
            SELECT order_id, count(*) AS n, max(amount) AS amount, max(idempotency_key) AS k,
                   max(created_at) AS at
            FROM order_events WHERE kind = 'cancel' GROUP BY order_id) e USING (order_id)
        WHERE (o.status = 'Cancel') <> (e.n IS NOT NULL)
           OR (e.n IS NOT NULL AND (e.n <> 1 OR e.amount <> 0 OR e.k <> 'demo-cancel-' || o.order_id
               OR e.at <= o.created_at))""",
    "phone digits are the phone's digits": """
        SELECT order_id FROM orders
        WHERE phone_digits <> regexp_replace(phone, '[^0-9]', '', 'g') OR phone_digits = ''""",
    "offline orders have a sales person and a 13-digit barcode": """
        SELECT order_id FROM orders WHERE channel = 'offline'
        AND (salesperson_id IS NULL OR salesperson_name IS NULL
             OR NOT regexp_full_match(merchant_order_id, '[0-9]{13}'))""",
    "online orders have a web order number": """
        SELECT order_id FROM orders WHERE channel = 'online'
        AND NOT regexp_full_match(merchant_order_id, 'WEB-[0-9]+')""",
    "merchant order numbers are unique":
        "SELECT merchant_order_id FROM orders GROUP BY 1 HAVING count(*) > 1",
    "every customer has an e-mail": "SELECT order_id FROM orders WHERE email NOT LIKE '%_@_%'",
}


@pytest.mark.parametrize("rule", INVARIANTS)
def test_invariant_holds_over_every_row(demo, rule):
    database, _ = demo
    assert _all(database, INVARIANTS[rule] + " LIMIT 5") == []


def test_orders_fill_the_period_and_pending_orders_exist(demo):
    database, _ = demo
    first, last = _all(database, "SELECT min(created_at), max(created_at) FROM orders")[0]
    assert first - START < dt.timedelta(days=3)
    assert END - last < dt.timedelta(days=1)
    assert _one(database, "SELECT count(*) FROM orders WHERE status = 'Pending'") > 0


def test_refund_events_list_the_refunded_lines(demo):
    database, _ = demo
    rows = _all(database, """
        SELECT e.order_id, e.items,
               list({'line_no': i.line_no, 'qty': i.refunded_quantity, 'price': i.unit_price,
                     'name': i.name} ORDER BY i.line_no) FILTER (WHERE i.refunded_quantity > 0)
        FROM order_events e JOIN order_items i USING (order_id)
        WHERE e.kind = 'refund' GROUP BY e.order_id, e.items""")
    assert rows
    for order_id, items, lines in rows:
        assert json.loads(items) == [
            {"line_no": ln["line_no"], "name": ln["name"], "quantity": ln["qty"],
             "unit_price": str(ln["price"])}
            for ln in lines
        ], order_id
    assert _one(database, """SELECT count(*) FROM order_events e WHERE items IS NOT NULL AND NOT EXISTS
                          (SELECT 1 FROM order_items i WHERE i.order_id = e.order_id)""") == 0


def test_edge_case_orders_are_present(demo):
    database, _ = demo
    injected = _one(database, "SELECT order_id FROM orders WHERE email = '=cmd@evil.test'")
    assert injected == FIRST_ORDER_ID
    assert _one(database, "SELECT count(*) FROM orders WHERE email <> lower(email)") > 0
    assert _one(database, "SELECT count(*) FROM orders WHERE phone_digits LIKE '00%'") > 0
    assert _one(database, "SELECT count(*) FROM orders WHERE phone LIKE '0%'") > 0
    cyrillic = "regexp_matches({}, '[А-Яа-яЁё]')"
    assert _one(database,
                f"SELECT count(*) FROM orders WHERE {cyrillic.format('salesperson_name')}") > 0
    assert _one(database, f"SELECT count(*) FROM stores WHERE {cyrillic.format('store_address')}") > 0


def fresh_target(target, tmp_path):
    """Another new database beside ``target``, of its backend."""
    if isinstance(target, str):
        return target.rsplit("/", 1)[0] + "/" + _create_like(target)
    return tmp_path / "fresh.duckdb"


def _create_like(url: str) -> str:
    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_fresh"
    subprocess.run([str(pgcluster.binaries() / "createdb"), "-h", parts.hostname, "-p",
                    str(parts.port), "-U", parts.username, "-T", "template0", name], check=True,
                   capture_output=True, env={**os.environ, "PGPASSWORD": parts.password})
    return name


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_demo_on_postgresql_holds_the_rows_of_the_same_demo_on_duckdb(demo, database_target,
                                                                       backend):
    duck, _ = demo
    with open_database(database_target) as database:
        summary = build_demo(database, orders=ORDERS, seed=7, today=TODAY)
        assert summary == demo[1]
        for table, key in TABLES.items():
            columns = [r[0] for r in _all(
                database, "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = ? AND table_schema = current_schema() "
                "ORDER BY ordinal_position", [table])]
            # PostgreSQL's events also name their order's store (schema 5), DuckDB's do not
            shared = [c for c in columns if not (table == "order_events" and c == "store_id")]
            sql = f"SELECT {', '.join(shared)} FROM {table} ORDER BY {key}"
            assert _all(database, sql) == _all(duck, sql), table
        assert _all(database, "SELECT count(*) FROM order_events e JOIN orders o USING (order_id) "
                    "WHERE e.store_id IS DISTINCT FROM o.store_id") == [(0,)]
        # the next event continues after the demo's, as on DuckDB
        with database.transaction() as cur:
            cur.execute("INSERT INTO order_events (order_id, kind, username, created_at, "
                        "idempotency_key) VALUES (?, 'cancel', 'anna', now()::TIMESTAMP, 'k-1') "
                        "RETURNING event_id", [FIRST_ORDER_ID])
            assert cur.fetchone()[0] > _one(duck, "SELECT max(event_id) FROM order_events")


def test_later_events_from_the_sequence_do_not_collide(demo, database_target):
    with open_database(database_target) as database:
        build_demo(database, orders=2_000, seed=3, today=TODAY)
        with database.transaction() as cur:
            cur.execute("""
                INSERT INTO order_events (order_id, kind, username, created_at, idempotency_key)
                VALUES (?, 'cancel', 'anna', now()::TIMESTAMP, 'k-1')""", [FIRST_ORDER_ID])
        assert _one(database, "SELECT max(event_id) FROM order_events") >= 1_000_001


def test_rebuild_replaces_everything_in_one_go(tmp_path, database_target):
    with open_database(database_target) as database:
        build_demo(database, orders=3_000, seed=1, today=TODAY, stores=45, legal_entities=5)
        first = _dump(database)
        summary = build_demo(database, orders=1_000, seed=2, today=TODAY)
        assert summary.orders == _one(database, "SELECT count(*) FROM orders") == 1_000
        assert _one(database, "SELECT count(*) FROM stores") == 40
        with open_database(fresh_target(database_target, tmp_path)) as fresh:
            build_demo(fresh, orders=1_000, seed=2, today=TODAY)
            assert _dump(database) == _dump(fresh)

        def fail_halfway(fraction: float) -> None:
            if fraction > 0.5:
                raise RuntimeError("interrupted")

        build_demo(database, orders=3_000, seed=1, today=TODAY, stores=45, legal_entities=5)
        with pytest.raises(RuntimeError):
            build_demo(database, orders=500, seed=9, today=TODAY, progress=fail_halfway)
        assert _dump(database) == first


def test_progress_rises_to_one(database_target):
    seen: list[float] = []
    with open_database(database_target) as database:
        build_demo(database, orders=100, today=TODAY, progress=seen.append)
    assert seen == sorted(seen) and seen[0] == 0.0 and seen[-1] == 1.0 and len(seen) > 3


def test_by_default_the_data_ends_yesterday_and_nothing_lies_in_the_future(tmp_path):
    with Database(tmp_path / "orders.duckdb") as database:
        build_demo(database, orders=200)
        last = _one(database, "SELECT max(created_at) FROM orders")
    today = dt.datetime.now(dt.timezone.utc).date()
    assert last.date() in (today - dt.timedelta(days=1), today - dt.timedelta(days=2))
    assert last < dt.datetime.combine(today, dt.time())


def test_more_legal_entities_get_generated_names(tmp_path):
    with Database(tmp_path / "orders.duckdb") as database:
        summary = build_demo(database, orders=2_000, today=TODAY, stores=120, legal_entities=12)
        names = [r[0] for r in _all(database, "SELECT DISTINCT legal_entity FROM stores ORDER BY 1")]
        ids = [r[0] for r in _all(database, "SELECT store_id FROM stores ORDER BY 1")]
    assert summary.legal_entities == len(names) == 12
    assert "Reserved Retail SRL" in names and "LPP Polska Sp. z o.o." in names
    assert ids[0] == "S001" and ids[-1] == "S120"


@pytest.mark.parametrize("arguments", [
    {"orders": 0}, {"orders": -5}, {"stores": 3, "legal_entities": 4}, {"legal_entities": 0},
    {"months": 0}, {"seed": -1}, {"orders": 10.5}, {"orders": "100"},
])
def test_rejects_impossible_arguments_and_changes_nothing(demo, arguments):
    database, _ = demo
    before = _one(database, "SELECT count(*) FROM orders")
    with pytest.raises(InvalidInput):
        build_demo(database, **{"today": TODAY, **arguments})
    assert _one(database, "SELECT count(*) FROM orders") == before


def test_demo_users_sign_in_with_their_role_and_a_scope_that_exists(demo, tmp_path, monkeypatch):
    database, _ = demo
    # The production bcrypt cost makes eight hashes take seconds; the cost is not under test.
    gensalt = bcrypt.gensalt
    monkeypatch.setattr(bcrypt, "gensalt", lambda *args, **kwargs: gensalt(4))
    path = tmp_path / "users.yaml"
    write_demo_users(path)
    users = load_users(path)
    assert set(users) == {"admin", "refunder", "viewer", "viewer.store"}
    assert {name: u.role for name, u in users.items()} == {
        "admin": "admin", "refunder": "refunder", "viewer": "viewer", "viewer.store": "viewer"}
    for username, password, role, legal_entities, store_ids, description in DEMO_USERS:
        user = users[username]
        assert check_password(password, user.password_hash)
        assert not check_password(password + "x", user.password_hash)
        assert password not in path.read_text()
        assert (user.legal_entities, user.stores) == (legal_entities, store_ids)
        assert description
    store_entity = dict(_all(database, "SELECT store_id, legal_entity FROM stores"))
    zone_of = dict(_all(database, "SELECT DISTINCT legal_entity, zone FROM stores"))
    assert set(users["refunder"].legal_entities) == {e for e, z in zone_of.items() if z == "PL"}
    assert users["refunder"].stores == ()
    viewer = users["viewer"]
    assert [zone_of[e] for e in viewer.legal_entities] == ["RO"]
    assert len(viewer.stores) == 2
    assert {store_entity[s] for s in viewer.stores} - set(viewer.legal_entities)  # another entity
    assert len({store_entity[s] for s in viewer.stores}) == 1
    assert users["viewer.store"].legal_entities == ()
    assert len(users["viewer.store"].stores) == 1
    assert users["viewer.store"].stores[0] in store_entity
    assert users["admin"].scope.all_orders
    # Every scoped user sees some orders of the default demo, but not all of them.
    for name in ("refunder", "viewer", "viewer.store"):
        scope = users[name].scope
        seen = _one(database, """
            SELECT count(*) FROM orders o JOIN stores s USING (store_id)
            WHERE list_contains(?, s.legal_entity) OR list_contains(?, s.store_id)""",
            [sorted(scope.legal_entities), sorted(scope.stores)])
        assert 0 < seen < ORDERS, name


@pytest.mark.slow
@pytest.mark.parametrize("orders, stores, legal_entities, months, limit_seconds", [
    (1_000_000, 40, 4, 12, 60),
    (5_000_000, 2_000, 200, 36, 120),
])
def test_large_demo_builds_in_time(tmp_path, orders, stores, legal_entities, months, limit_seconds):
    with Database(tmp_path / "orders.duckdb") as database:
        started = time.perf_counter()
        summary = build_demo(database, orders=orders, today=TODAY, stores=stores,
                             legal_entities=legal_entities, months=months)
        elapsed = time.perf_counter() - started
        assert summary.orders == orders
        assert _one(database, "SELECT sum(amount) FROM orders") > Decimal(orders)
    print(f"\n{orders:,} orders in {elapsed:.1f} s")
    assert elapsed < limit_seconds
