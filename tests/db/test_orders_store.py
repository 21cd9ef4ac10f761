"""Store reads on a real DuckDB file, compared with a Python oracle over the same rows."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core.errors import InvalidQuery, OrderNotFound
from core.query import PAGE_SIZE, SORT_LABELS, OrderQuery, page_count
from core.users import Scope

TZ = ZoneInfo("Europe/Warsaw")
SCOPES = {
    "admin": Scope.everything(),
    "one legal entity": Scope(False, frozenset({"Alpha SRL"}), frozenset()),
    "legal entity + foreign store": Scope(False, frozenset({"Beta Sp. z o.o."}), frozenset({"S03"})),
    "one store": Scope(False, frozenset(), frozenset({"S05"})),
    "nothing granted": Scope(),
}

# label → the sample's value for an order (the oracle's view of SORT_LABELS)
ORACLE = {
    "Order date": lambda o, s: o["created_at"],
    "Order ID": lambda o, s: o["order_id"],
    "Offline Barcode / Online order ID": lambda o, s: o["merchant_order_id"],
    "Status": lambda o, s: o["status"],
    "Captured amount": lambda o, s: o["amount"],
    "Refunded amount": lambda o, s: o["refunded_amount"],
    "Customer registration kind": lambda o, s: o["channel"],
    "Customer email": lambda o, s: o["email"],
    "Customer phone": lambda o, s: o["phone"],
    "Store name": lambda o, s: s["store_name"],
    "Store ID": lambda o, s: s["merchant_store_id"],
    "Region": lambda o, s: s["region"],
    "Legal entity": lambda o, s: s["legal_entity"],
    "Zone": lambda o, s: s["zone"],
}


def in_scope(sample, scope: Scope, order) -> bool:
    database = sample.store_of(order)
    return scope.all_orders or database["legal_entity"] in scope.legal_entities or (
        order["store_id"] in scope.stores
    )


def oracle_sorted(sample, orders, sort: str, descending: bool) -> list[int]:
    def value(order):
        return ORACLE[sort](order, sample.store_of(order))

    present = [o for o in orders if value(o) is not None]
    missing = [o for o in orders if value(o) is None]
    present.sort(key=lambda o: (value(o), o["order_id"]), reverse=descending)
    missing.sort(key=lambda o: o["order_id"], reverse=descending)
    return [o["order_id"] for o in present + missing]


def all_pages(database, scope, query) -> list[int]:
    first = database.fetch_page(scope, query, TZ, 1)
    ids = [row.order_id for row in first.rows]
    for page in range(2, page_count(first.total) + 1):
        result = database.fetch_page(scope, query, TZ, page)
        assert len(result.rows) == (PAGE_SIZE if page < page_count(first.total) else
                                    first.total - PAGE_SIZE * (page - 1))
        ids += [row.order_id for row in result.rows]
    return ids


@pytest.mark.parametrize("scope_name", SCOPES)
def test_scope_isolation_count_and_rows(sample_db, scope_name):
    database, sample = sample_db
    scope = SCOPES[scope_name]
    expected = [o for o in sample.orders if in_scope(sample, scope, o)]
    total, total_amount = database.count_orders(scope, OrderQuery(), TZ)
    assert total == len(expected)
    assert total_amount == sum((o["amount"] for o in expected), Decimal("0"))
    listed = all_pages(database, scope, OrderQuery())
    assert sorted(listed) == sorted(o["order_id"] for o in expected)
    exported = [row[1] for row in database.iter_export_rows(scope, OrderQuery(), TZ)]
    assert exported == listed


@pytest.mark.parametrize("sort", list(SORT_LABELS))
@pytest.mark.parametrize("descending", [True, False])
def test_page_walk_matches_python_sort(sample_db, sort, descending):
    database, sample = sample_db
    scope = SCOPES["legal entity + foreign store"]
    query = OrderQuery(sort=sort, descending=descending, statuses=("Completed", "Return"))
    expected_orders = [
        o for o in sample.orders
        if in_scope(sample, scope, o) and o["status"] in ("Completed", "Return")
    ]
    assert all_pages(database, scope, query) == oracle_sorted(sample, expected_orders, sort,
                                                            descending)


def local_day(moment: datetime) -> date:
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(TZ).date()


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        (OrderQuery(channels=("offline",)), lambda o, s: o["channel"] == "offline"),
        (OrderQuery(regions=("Cluj", "Moscow")), lambda o, s: s["region"] in ("Cluj", "Moscow")),
        (OrderQuery(stores=("S01", "S05")), lambda o, s: o["store_id"] in ("S01", "S05")),
        (OrderQuery(legal_entities=("Gamma LLC",)), lambda o, s: s["legal_entity"] == "Gamma LLC"),
        (OrderQuery(start=date(2026, 3, 1), end=date(2026, 3, 31)),
         lambda o, s: date(2026, 3, 1) <= local_day(o["created_at"]) <= date(2026, 3, 31)),
        (OrderQuery(search="GMAIL"), lambda o, s: "gmail" in (o["email"] or "").lower()),
        (OrderQuery(search="bob@gmail.com"),
         lambda o, s: (o["email"] or "").lower() == "bob@gmail.com"),
        (OrderQuery(search="606 606"), lambda o, s: "606606" in "".join(
            c for c in (o["phone"] or "") if c.isdigit())),
        (OrderQuery(search="1010"), lambda o, s: o["order_id"] == 1010 or "1010" in "".join(
            c for c in (o["phone"] or "") if c.isdigit()) or o["merchant_order_id"] == "1010"),
        (OrderQuery(search="WEB-17"), lambda o, s: o["merchant_order_id"] == "WEB-17"),
        (OrderQuery(search="%"), lambda o, s: "%" in (o["email"] or "")),
        (OrderQuery(search="_"), lambda o, s: "_" in (o["email"] or "")),
        (OrderQuery(search="' OR 1=1 --"), lambda o, s: False),
        (OrderQuery(search="'; DROP TABLE orders; --"), lambda o, s: False),
    ],
    ids=lambda v: repr(v)[:60] if isinstance(v, OrderQuery) else "",
)
def test_filters_and_search_match_the_oracle(sample_db, query, keep):
    database, sample = sample_db
    scope = SCOPES["admin"]
    expected = {o["order_id"] for o in sample.orders if keep(o, sample.store_of(o))}
    assert set(all_pages(database, scope, query)) == expected
    assert database.count_orders(scope, query, TZ)[0] == len(expected)


def test_injection_attempts_leave_the_database_intact(sample_db):
    database, sample = sample_db
    for text in ["'; DROP TABLE orders; --", "1; DELETE FROM orders", "\" OR \"\"=\"",
                 "%' OR '1'='1", "\\", "\x00"]:
        database.count_orders(SCOPES["one store"], OrderQuery(search=text), TZ)
    assert database.count_orders(SCOPES["admin"], OrderQuery(), TZ)[0] == len(sample.orders)


def test_page_beyond_the_last_is_clamped(sample_db):
    database, _ = sample_db
    query = OrderQuery(stores=("S05",))
    last = database.fetch_page(SCOPES["admin"], query, TZ, 10**6)
    assert last.page == page_count(last.total)
    assert last.rows
    assert database.fetch_page(SCOPES["admin"], query, TZ, -4).page == 1


def test_empty_scope_sees_nothing(sample_db):
    database, _ = sample_db
    page = database.fetch_page(SCOPES["nothing granted"], OrderQuery(), TZ, 1)
    assert (page.total, page.rows) == (0, [])
    assert database.fetch_scope_options(SCOPES["nothing granted"]).stores == ()


def test_scope_options_list_only_granted(sample_db):
    database, sample = sample_db
    options = database.fetch_scope_options(SCOPES["legal entity + foreign store"])
    granted = {s["store_id"] for s in sample.stores
               if s["legal_entity"] == "Beta Sp. z o.o." or s["store_id"] == "S03"}
    assert {sid for sid, _ in options.stores} == granted
    assert set(options.legal_entities) == {
        s["legal_entity"] for s in sample.stores if s["store_id"] in granted}


@pytest.mark.parametrize("order_id", ["abc", "", "-1", "1e3", "99999999999999999999", "1000 ",
                                      "٣", "1000; DROP TABLE orders"])
def test_malformed_order_ids_are_not_found(sample_db, order_id):
    database, _ = sample_db
    if order_id == "1000 ":
        assert database.fetch_order(SCOPES["admin"], order_id, TZ).order_id == 1000
        return
    with pytest.raises(OrderNotFound, match="Order not found"):
        database.fetch_order(SCOPES["admin"], order_id, TZ)


def test_order_outside_scope_is_not_found_like_a_missing_one(sample_db):
    database, sample = sample_db
    scope = SCOPES["one store"]
    outside = next(o for o in sample.orders if not in_scope(sample, scope, o))
    inside = next(o for o in sample.orders if in_scope(sample, scope, o))
    for order_id in (outside["order_id"], 999_999_999):
        with pytest.raises(OrderNotFound) as err:
            database.fetch_order(scope, order_id, TZ)
        assert str(err.value) == "Order not found"
    details = database.fetch_order(scope, inside["order_id"], TZ)
    assert details.captured_amount == inside["amount"]
    assert isinstance(details.captured_amount, Decimal)
    assert details.created_at.tzinfo is not None


def test_items_come_back_exact(sample_db):
    database, sample = sample_db
    order_id = sample.items[0]["order_id"]
    lines = database.fetch_items(database.fetch_order(SCOPES["admin"], order_id, TZ))
    expected = [i for i in sample.items if i["order_id"] == order_id]
    assert [(line.line_no, line.quantity, line.unit_price) for line in lines] == [
        (i["line_no"], i["quantity"], i["unit_price"]) for i in expected]


def test_export_rows_have_the_local_date_and_exact_amounts(sample_db):
    database, sample = sample_db
    by_id = {o["order_id"]: o for o in sample.orders}
    for row in database.iter_export_rows(SCOPES["admin"], OrderQuery(), TZ, batch_size=7):
        order = by_id[row[1]]
        assert row[0] == local_day(order["created_at"])
        assert row[3] == order["amount"] and isinstance(row[3], Decimal)
        assert row[14] == order["channel"]


def test_period_bounds_are_inclusive_local_days(database_target):
    from tests.sample_data import Sample, load_sample
    from core.db import open_database

    database = open_database(database_target)
    shop = {"store_id": "S1", "store_name": "A", "store_address": None, "merchant_store_id": None,
            "brand": None, "legal_entity": "L", "region": "R", "zone": "PL"}
    # 31.03.2026 23:30 in Warsaw (UTC+2 after the DST change) is 21:30 UTC.
    moments = [datetime(2026, 3, 31, 21, 30), datetime(2026, 3, 31, 22, 30),
               datetime(2026, 2, 28, 23, 30)]
    orders = [
        {"order_id": n + 1, "created_at": m, "merchant_order_id": None, "amount": Decimal("1.00"),
         "refunded_amount": Decimal("0"), "status": "Completed", "channel": "online",
         "email": None, "phone": None, "store_id": "S1", "salesperson_id": None,
         "salesperson_name": None}
        for n, m in enumerate(moments)
    ]
    load_sample(database, Sample([shop], orders, []))
    march = OrderQuery(start=date(2026, 3, 1), end=date(2026, 3, 31))
    ids = [r.order_id for r in database.fetch_page(Scope.everything(), march, TZ, 1).rows]
    assert sorted(ids) == [1, 3]  # 28.02 23:30 UTC is 01.03 00:30 in Warsaw
    with pytest.raises(InvalidQuery):
        OrderQuery(start=date(2026, 4, 1), end=date(2026, 3, 1))


# Zones whose midnight is a whole UTC hour, half an hour, three quarters of one.
PERIOD_ZONES = ["Europe/Warsaw", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns"]


@pytest.mark.parametrize("zone", PERIOD_ZONES)
@pytest.mark.parametrize("statuses", [(), ("Completed", "Return")])
def test_counts_of_every_store_in_a_period_are_the_oracle_s_in_every_zone(sample_db, zone,
                                                                         statuses):
    """An admin's view (every store) is counted by hour on PostgreSQL, its partial hours from
    the orders: the same count and total as the orders themselves, in any zone."""
    from datetime import timezone

    database, sample = sample_db
    tz = ZoneInfo(zone)
    query = OrderQuery(start=date(2026, 2, 3), end=date(2026, 5, 17), statuses=statuses)
    expected = [o for o in sample.orders
                if query.start <= o["created_at"].replace(tzinfo=timezone.utc).astimezone(tz)
                .date() <= query.end and (not statuses or o["status"] in statuses)]
    assert database.count_orders(SCOPES["admin"], query, tz) == (
        len(expected), sum((o["amount"] for o in expected), Decimal("0")))


def test_the_counts_follow_every_write_to_the_orders(database_target):
    """Inserts, updates (a refund, a status change, a moved time) and deletes keep an admin's
    count exact: on PostgreSQL, the hour counts written in the same transaction."""
    from core.db import open_database
    from tests.sample_data import build_sample, load_sample

    sample = build_sample(seed=3, n_orders=60)
    with open_database(database_target) as database:
        load_sample(database, sample)
        everything, year = SCOPES["admin"], OrderQuery(start=date(2026, 1, 1),
                                                       end=date(2026, 12, 31))

        def direct() -> tuple[int, Decimal]:
            with database.cursor() as cur:
                n, amount = cur.execute(
                    "SELECT count(*), coalesce(sum(amount), 0) FROM orders "
                    "WHERE created_at >= TIMESTAMP '2025-12-31 23:00:00' "
                    "AND created_at < TIMESTAMP '2026-12-31 23:00:00'").fetchone()
            return int(n), Decimal(amount)

        assert database.count_orders(everything, year, TZ) == direct()
        with database.transaction() as cur:
            cur.execute("UPDATE orders SET refunded_amount = amount, status = 'Return' "
                        "WHERE status = 'Completed' AND order_id % 3 = 0")
            cur.execute("UPDATE orders SET created_at = created_at + INTERVAL '400 days' "
                        "WHERE order_id % 5 = 0")
            cur.execute("DELETE FROM order_items WHERE order_id % 7 = 0")
        with database.transaction() as cur:  # DuckDB checks the items' references eagerly
            cur.execute("DELETE FROM orders WHERE order_id % 7 = 0")
        assert database.count_orders(everything, year, TZ) == direct()
        returns = year.with_changes(statuses=("Return",))
        with database.cursor() as cur:
            n = cur.execute("SELECT count(*) FROM orders WHERE status = 'Return' "
                            "AND created_at >= TIMESTAMP '2025-12-31 23:00:00' "
                            "AND created_at < TIMESTAMP '2026-12-31 23:00:00'").fetchone()[0]
        assert database.count_orders(everything, returns, TZ)[0] == n
