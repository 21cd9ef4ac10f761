"""The Orders page lines and the Overview's figures, timed through orderdesk's own code.

The ``Workload`` (a user of 50 stores, the last 12 months, searches for one real order of theirs)
is derived from the database deterministically. Each line times ``Database.fetch_page`` (the
count and a page of 15) beside the naive plain DuckDB query on the same connection.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from scripts.benchmark.report import Line
from scripts.benchmark.timing import TZ_NAME, ms, timed

USER_STORES = 50
DEEP_PAGE = 2_000


@dataclass(frozen=True)
class Workload:
    """The users, views and searches of one run, derived from the database deterministically."""

    user_stores: tuple[str, ...]
    start: date  # the last 12 months, as the "Last 12 months" preset
    end: date
    email_part: str
    phone_digits: str
    order_id: str


def workload(database, today: date) -> Workload:
    from core.db.filters import orders_where
    from core.query import OrderQuery

    with database.cursor() as cur:
        ids = [r[0] for r in cur.execute("SELECT store_id FROM stores ORDER BY store_id").fetchall()]
        user_stores = tuple(sorted(random.Random(USER_STORES).sample(ids, min(USER_STORES, len(ids)))))
        # The searches look for one real order of the user's: the newest one with a phone.
        where, params = orders_where(OrderQuery(), ZoneInfo(TZ_NAME), user_stores)
        order_id, email, phone = cur.execute(
            f"SELECT o.order_id, o.email, o.phone_digits FROM orders o WHERE {where} "
            "AND o.phone_digits IS NOT NULL AND o.email IS NOT NULL "
            "ORDER BY o.created_at DESC LIMIT 1", params,
        ).fetchone()
    digits = phone[-7:]
    return Workload(
        user_stores=user_stores,
        start=today - timedelta(days=364),
        end=today,
        email_part=email.split("@")[0].lower() + "@",
        phone_digits=f"{digits[:3]} {digits[3:]}",
        order_id=str(order_id),
    )


def page_lines(w: Workload):
    """(line name, target key, scope, query, page) for every Orders page line."""
    from core.query import SORT_LABELS, OrderQuery
    from core.users import Scope

    user = Scope(False, frozenset(), frozenset(w.user_stores))
    admin = Scope.everything()
    year = OrderQuery(start=w.start, end=w.end)
    lines = []
    for column in SORT_LABELS:
        lines.append((f"50 stores, 1 year, by {column}", "page", user,
                      year.with_changes(sort=column), 1))
    for column in SORT_LABELS:
        lines.append((f"admin, 1 year, by {column}", "admin", admin,
                      year.with_changes(sort=column), 1))
    lines += [
        (f"search e-mail part “{w.email_part}”, 50 stores", "search e-mail", user,
         OrderQuery(search=w.email_part), 1),
        (f"search phone digits “{w.phone_digits}”, 50 stores", "search phone", user,
         OrderQuery(search=w.phone_digits), 1),
        (f"search order ID {w.order_id}, 50 stores", "search order ID", user,
         OrderQuery(search=w.order_id), 1),
        (f"page {DEEP_PAGE:,}, 50 stores, 1 year", "deep page", user, year, DEEP_PAGE),
        (f"page {DEEP_PAGE:,}, admin, 1 year", "deep page", admin, year, DEEP_PAGE),
    ]
    return lines



def plain_duckdb(cur, scope, query, tz, page: int) -> None:
    """The naive query: orders JOIN stores, the scope as ``store_id IN (…)``, every column (on
    PostgreSQL, the same query there)."""
    from core.columns import PAGE_COLUMNS
    from core.db.filters import FROM_SQL, column_sql, order_by, where_clause
    from core.query import PAGE_SIZE

    where, params = where_clause(query, scope, tz)
    cur.execute(f"SELECT count(*), sum(o.amount) FROM {FROM_SQL} WHERE {where}", params).fetchone()
    select = ", ".join(f'{column_sql(c)} AS "{c.label}"' for c in PAGE_COLUMNS)
    cur.execute(
        f"SELECT {select} FROM {FROM_SQL} WHERE {where} ORDER BY {order_by(query)} "
        "LIMIT ? OFFSET ?", [*params, PAGE_SIZE, (page - 1) * PAGE_SIZE],
    ).fetchall()


def measure_pages(args, db: Path | str, w: Workload, lines_out: list[Line]) -> None:
    from core.overview import fetch_overview
    from core.query import OrderQuery
    from core.db import SERVER_MEMORY_LIMIT, open_database
    from core.users import Scope

    tz = ZoneInfo(TZ_NAME)
    # As the server opens it (ui/context.py); the plain baseline runs on the same connection.
    database = open_database(db, read_only=True, memory_limit=SERVER_MEMORY_LIMIT)
    try:
        for name, key, scope, query, page in page_lines(w):
            line = Line(name, key)
            line.orderdesk = timed(lambda: database.fetch_page(scope, query, tz, page), args.repeat)
            result = database.fetch_page(scope, query, tz, page)
            line.note = f"{result.total:,} orders"
            if result.page != page:
                line.note += f"; page {page:,} is past the end: the last, {result.page:,}"
            if "plain" in args.baselines:
                with database.cursor() as cur:
                    line.plain = timed(lambda: plain_duckdb(cur, scope, query, tz, page),
                                       args.baseline_repeat)
            lines_out.append(line)
            print(f"  {name:58s} {ms(line.orderdesk.median):>10s} p95 {ms(line.orderdesk.p95):>10s}"
                  f"  cpu {ms(line.orderdesk.cpu_median):>10s}"
                  + (f"   plain {ms(line.plain.median):>10s}" if line.plain else "")
                  + f"   ({line.note})", flush=True)
        user = Scope(False, frozenset(), frozenset(w.user_stores))
        for name, scope in (("Overview figures, 50 stores, 1 year", user),
                            ("Overview figures, admin, 1 year", Scope.everything())):
            query = OrderQuery(start=w.start, end=w.end)
            line = Line(name, None)
            line.orderdesk = timed(lambda: fetch_overview(database, scope, query, tz, today=w.end),
                                   args.repeat)
            lines_out.append(line)
            print(f"  {name:58s} {ms(line.orderdesk.median):>10s} p95 {ms(line.orderdesk.p95):>10s}"
                  f"  cpu {ms(line.orderdesk.cpu_median):>10s}", flush=True)
    finally:
        database.close()

