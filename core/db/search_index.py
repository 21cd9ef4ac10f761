"""The search index: finding orders by a search among the allowed stores, and its upkeep.

``order_search`` holds every order's search values, clustered by store in row groups of
``SEARCH_ROW_GROUP_SIZE`` (``core.db.schema``); the orders written since it was clustered are in
``order_search_recent`` (``index_orders``, in the transaction that wrote them) until
``cluster_search_index`` takes them in. ``search_index`` answers a search from both.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from core.db.driver import check_memory_limit, translate
from core.db.filters import ORDERS, condition_sql
from core.db.postgres import is_postgres
from core.db.schema import (
    BIGINT_MAX,
    DDL,
    PHONE_KEY_DIGITS,
    SEARCH_ROWS,
    phone_signature,
    sort_key,
)
from core.query_filters import Search

# The search index is rebuilt in row groups of this many rows, clustered by store: DuckDB skips
# a row group whose stores are not searched, so a user with 50 of 2,000 stores reads about 80 of
# 1,221 row groups of 5M orders. Measured with 2,048 to 122,880 (DuckDB's default, which the
# orders keep): 4,096 was the quickest; at 122,880 a search read every row.
SEARCH_ROW_GROUP_SIZE = 4096
# The rows of orders written since the index was last clustered (``order_search_recent``) are read
# in every search. ``cluster_search_index`` (the server's open, the CLI after a demo or an import)
# clusters the index again when it finds more of them than this, and than a tenth of all orders.
SEARCH_TAIL_ROWS = 50_000
# A search answered from the index reads at most this many orders by ID; when more orders match
# (a few digits of a phone, a common e-mail part), the orders are filtered by the search itself.
INDEX_CANDIDATES = 1_000


def index_match(search: Search) -> tuple[tuple[str, list], tuple[str, list] | None]:
    """``search`` over the search index ``order_search i`` (``core.db.schema``), in two
    parts: the exact one, and the merchant order ID's, which compares hashes and is confirmed
    on ``orders`` (None when the search does not look at it).

    A phone's ``phone_key`` is ``1`` followed by its digits, so "the digits contain q" (q of L
    digits) is: some window of L digits, i places from the right, equals q and lies below
    the leading 1 (``phone_key >= 10^(i+L)``): integer arithmetic instead of decoding text,
    tried only on phones whose signature has every bit of q's.
    """
    merchant = ("i.merchant_key = hash(?)", [search.value])
    if search.kind == "email":
        return ("contains(i.email, ?)", [search.value]), None
    if search.kind == "text":
        return ("contains(i.email, ?)", [search.value.lower()]), merchant
    if search.kind != "digits":
        return ("FALSE", []), None
    width, value = len(search.value), int(search.value)
    windows, params = ["contains(i.phone_long, ?)"], [search.value]
    for shift in range(PHONE_KEY_DIGITS - width + 1):
        windows.append("((i.phone_key // ?) % ? = ? AND i.phone_key >= ?)")
        params += [10 ** shift, 10 ** width, value, 10 ** (shift + width)]
    signature = phone_signature(search.value)
    sql = f"((i.phone_sig & ?::UBIGINT) = ?::UBIGINT AND ({' OR '.join(windows)}))"
    params = [signature, signature, *params]
    if value <= BIGINT_MAX:
        sql = f"(i.order_id = ? OR {sql})"
        params = [value, *params]
    return (sql, params), merchant


def search_index(cur: duckdb.DuckDBPyConnection, search: Search, store_nos: list[int] | None,
                 recent: bool = True) -> list[int] | None:
    """The IDs of the orders of the given stores (their ``store_no``; None: every store) that
    ``search`` matches, from the search index (``recent``: ``order_search_recent`` has rows);
    None when more than ``INDEX_CANDIDATES`` match."""
    (match, params), merchant = index_match(search)
    if merchant is not None:
        match, params = f"({match} OR {merchant[0]})", [*params, *merchant[1]]
        hashed, hashed_params = merchant
    else:
        hashed, hashed_params = "FALSE", []
    if store_nos is not None:
        if not store_nos:
            return []
        match = f"i.store_no IN ({', '.join('?' * len(store_nos))}) AND {match}"
        params = [*store_nos, *params]
    sql = f"SELECT i.order_id, {hashed} FROM order_search i WHERE {match}"
    args = [*hashed_params, *params]
    if recent:
        # The clustered rows, except those of orders written since, and the rows of those
        # orders. (Only then: the anti-join costs 8-9 ms on 5M orders even when it is empty.)
        sql = (f"{sql} AND i.order_id NOT IN (SELECT order_id FROM order_search_recent) "
               f"UNION ALL SELECT i.order_id, {hashed} FROM order_search_recent i WHERE {match}")
        args += args
    rows = cur.execute(f"{sql} LIMIT ?", [*args, INDEX_CANDIDATES + 1]).fetchall()
    if len(rows) > INDEX_CANDIDATES:
        return None
    ids = [order_id for order_id, by_hash in rows if not by_hash]
    if hashed_ids := [order_id for order_id, by_hash in rows if by_hash]:
        # The merchant order ID's hash matched (rarely): the search is confirmed on the orders.
        sql, sql_params = condition_sql(search, ORDERS)
        ids += [r[0] for r in cur.execute(
            f"SELECT o.order_id FROM orders o WHERE o.order_id IN "
            f"({', '.join('?' * len(hashed_ids))}) AND {sql}", [*hashed_ids, *sql_params]
        ).fetchall()]
    return ids


def index_orders(cur: duckdb.DuckDBPyConnection, where: str | None = None,
                 params: Sequence = ()) -> None:
    """Write what is derived from the orders ``o`` matching ``where`` (None: every order, and
    the index is emptied first) in the transaction that wrote those orders: their sort keys
    (``core.db.schema.sort_key``) and their rows in ``order_search_recent``, which
    ``cluster_search_index`` takes into the clustered index when they have grown.

    On PostgreSQL nothing is derived: its indexes on the orders (``core.db.postgres.schema``)
    are kept up to date by the writes themselves."""
    if is_postgres(cur):
        return
    cur.execute(f"UPDATE orders o SET phone_sort = {sort_key('o.phone')}, "
                f"email_sort = {sort_key('o.email')} WHERE {where or 'TRUE'}", params)
    number_stores(cur)
    if where is None:
        cur.execute("DELETE FROM order_search; DELETE FROM order_search_recent")
        where = "TRUE"
    else:
        cur.execute(f"DELETE FROM order_search_recent WHERE order_id IN "
                    f"(SELECT o.order_id FROM orders o WHERE {where})", params)
    cur.execute(f"INSERT INTO order_search_recent {SEARCH_ROWS} WHERE {where} "
                "ORDER BY ss.store_no, o.order_id", params)


def number_stores(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute(
        "INSERT INTO search_stores SELECT store_id, (SELECT coalesce(max(store_no), 0) "
        "FROM search_stores) + row_number() OVER (ORDER BY store_id) FROM stores "
        "WHERE store_id NOT IN (SELECT store_id FROM search_stores)"
    )


def cluster_search_index(path: Path | str, *, memory_limit: str | None = None) -> bool:
    """Rebuild ``order_search`` from every order, clustered by store in row groups of
    ``SEARCH_ROW_GROUP_SIZE``, when the index is missing (a database of schema 1) or incomplete,
    or ``order_search_recent`` holds more than ``SEARCH_TAIL_ROWS`` rows (and a tenth of all);
    the orders' sort keys are written again with it. True when it was rebuilt.

    DuckDB sets the row group size per attached database, so this runs on a connection of its own
    before the database's (``Database.open_clustered`` calls it; so do the CLI after a demo or an
    import); the orders keep DuckDB's
    default row groups, which their scans are tuned for. When this process has the file open
    already, the open connection did this, and nothing is done. ``memory_limit`` bounds DuckDB's
    memory on that connection as ``Database``'s does.
    """
    check_memory_limit(memory_limit)
    try:
        return _cluster_search_index(path, memory_limit)
    except duckdb.Error as exc:
        raise translate(exc, path) from exc


def _cluster_search_index(path: Path | str, memory_limit: str | None) -> bool:
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        if memory_limit is not None:
            con.execute(f"SET memory_limit = '{memory_limit}'")
        try:
            con.execute(f"ATTACH ? AS orderdesk (ROW_GROUP_SIZE {SEARCH_ROW_GROUP_SIZE})",
                        [str(path)])
        except duckdb.Error as exc:
            if "Unique file handle conflict" in str(exc):
                return False
            raise
        con.execute("USE orderdesk")
        con.execute(DDL)
        orders, indexed, recent, unkeyed = con.execute(
            "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_search WHERE "
            "order_id NOT IN (SELECT order_id FROM order_search_recent)), "
            "(SELECT count(*) FROM order_search_recent), (SELECT count(*) FROM orders "
            "WHERE (phone_sort IS NULL AND phone IS NOT NULL) "
            "OR (email_sort IS NULL AND email IS NOT NULL))"
        ).fetchone()
        if (indexed + recent == orders and not unkeyed
                and recent <= max(SEARCH_TAIL_ROWS, orders // 10)):
            return False
        con.execute("BEGIN TRANSACTION")
        con.execute("DROP TABLE order_search; DROP TABLE order_search_recent; "
                    "DROP TABLE search_stores")
        con.execute(DDL)
        con.execute(f"UPDATE orders o SET phone_sort = {sort_key('o.phone')}, "
                    f"email_sort = {sort_key('o.email')}")
        number_stores(con)
        con.execute(f"INSERT INTO order_search {SEARCH_ROWS} ORDER BY ss.store_no, o.order_id")
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
        return True
    finally:
        con.close()
