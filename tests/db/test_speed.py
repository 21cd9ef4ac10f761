"""At merchant scale the fast read paths give exactly what the plain query gives, and faster.

Slow (a demo database of 1,000,000 orders is built first): ``pytest -m slow tests/db/test_speed.py``.
The full benchmark, with baselines and the app, is ``python scripts/bench.py`` (README).
"""
from __future__ import annotations

import os
import random
import statistics
import time
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.demo import build_demo
from core.columns import PAGE_COLUMNS
from core.db.filters import FROM_SQL, column_sql, order_by, where_clause
from core.query import PAGE_SIZE, SORT_LABELS, OrderQuery
from core.db import Database
from core.users import Scope

pytestmark = pytest.mark.slow

ORDERS = int(os.environ.get("ORDERDESK_SPEED_ORDERS", "1000000"))
TZ = ZoneInfo("Europe/Warsaw")
TODAY = date(2026, 6, 30)


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    path = tmp_path_factory.mktemp("speed") / "orders.duckdb"
    with Database(path) as builder:
        build_demo(builder, orders=ORDERS, seed=7, today=TODAY, stores=2000,
                   legal_entities=200, months=36)
    # Reopened, as the server opens it: segments written by this process are kept in a form
    # that DuckDB cannot filter by dictionary, which makes scoped reads several times slower
    # until the file is opened again; the search index is clustered first.
    database = Database.open_clustered(path)
    with database.cursor() as cur:
        ids = [r[0] for r in cur.execute("SELECT store_id FROM stores ORDER BY 1").fetchall()]
    user = Scope(False, frozenset(), frozenset(random.Random(50).sample(ids, 50)))
    yield database, user
    database.close()


def plain_page(database, scope, query, page):
    """The naive query: orders JOIN stores with the scope's IN list, every column, and a count."""
    where, params = where_clause(query, scope, TZ)
    select = ", ".join(f'{column_sql(c)} AS "{c.label}"' for c in PAGE_COLUMNS)
    with database.cursor() as cur:
        total, amount = cur.execute(
            f"SELECT count(*), coalesce(sum(o.amount), 0) FROM {FROM_SQL} WHERE {where}", params
        ).fetchone()
        rows = cur.execute(
            f"SELECT {select} FROM {FROM_SQL} WHERE {where} ORDER BY {order_by(query)} "
            "LIMIT ? OFFSET ?", [*params, PAGE_SIZE, (page - 1) * PAGE_SIZE]).fetchall()
    return total, amount, [row[1] for row in rows]


def median_seconds(run, repeat=5):
    run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@pytest.mark.parametrize("sort", list(SORT_LABELS))
def test_user_with_50_stores_gets_the_plain_query_page_faster(big, sort):
    database, user = big
    query = OrderQuery(start=TODAY - timedelta(days=364), end=TODAY, sort=sort)
    for page in (1, 2, 300):
        result = database.fetch_page(user, query, TZ, page)
        total, amount, ids = plain_page(database, user, query, result.page)
        assert (result.total, result.total_amount) == (total, amount)
        assert [row.order_id for row in result.rows] == ids
    ours = median_seconds(lambda: database.fetch_page(user, query, TZ, 1))
    plain = median_seconds(lambda: plain_page(database, user, query, 1))
    print(f"{sort}: orderdesk {ours * 1000:.1f} ms, plain {plain * 1000:.1f} ms")
    assert ours < plain


@pytest.mark.parametrize("sort", ["Order date", "Captured amount", "Status", "Store name",
                                  "Customer email"])
def test_admin_and_searches_match_the_plain_query(big, sort):
    database, user = big
    admin = Scope.everything()
    with database.cursor() as cur:
        order_id, email = cur.execute(
            "SELECT order_id, email FROM orders WHERE store_id = ? AND email IS NOT NULL "
            "ORDER BY order_id DESC LIMIT 1", [sorted(user.stores)[0]]).fetchone()
    for scope, query, page in [
        (admin, OrderQuery(start=TODAY - timedelta(days=364), end=TODAY, sort=sort), 3),
        (admin, OrderQuery(sort=sort, descending=False), 2000),
        (user, OrderQuery(search=email.split("@")[0] + "@", sort=sort), 1),
        (user, OrderQuery(search=str(order_id), sort=sort), 1),
        (user, OrderQuery(regions=(), statuses=("Completed",), sort=sort), 40),
    ]:
        result = database.fetch_page(scope, query, TZ, page)
        total, amount, ids = plain_page(database, scope, query, result.page)
        assert (result.total, result.total_amount) == (total, amount)
        assert [row.order_id for row in result.rows] == ids
