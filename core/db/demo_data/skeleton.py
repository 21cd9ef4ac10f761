"""The skeleton of the demo's orders: ``demo_base``, one row per order, and the line macros.

``demo_base`` holds per order its store, time, fate, number of lines, amount and refunded amount in
cents; the macros give line ``l`` of order ``i`` its garment, price and quantity, so that orders
and lines agree without a join.
"""
from __future__ import annotations

from core.db.demo_data.choices import (
    CANCEL, COMPLETED, OFFLINE, ONLINE, PARTIAL, PENDING, RETURN, Choices, hours,
)
from core.db.sql_text import sql_array
from core.demo.names import GARMENTS, OFFLINE_HOURS, ONLINE_HOURS
from core.demo.plan import FIRST_ORDER_ID, PENDING_DAYS


def macros(c: Choices) -> list[str]:
    """Line ``l`` of order ``i`` as functions, so orders and lines agree without a join.

    Each takes what it depends on as an argument (garment ``g``, price ``p``, quantity
    ``q``, number of lines ``n``): callers compute those once, in a column.
    """
    seed = c.seed
    regular = f"{sql_array([g[1] for g in GARMENTS])}[g]"
    return [
        f"CREATE TEMP MACRO demo_garment(i, l) AS "
        f"1 + (hash(i, {seed}, 'garment', l) % {len(GARMENTS)})::BIGINT",
        # A quarter of the lines are on sale at 30% off, still ending in .99.
        f"CREATE TEMP MACRO demo_price(i, l, g) AS CASE "
        f"WHEN hash(i, {seed}, 'sale', l) % 4 = 0 THEN {regular} * 7 // 10 // 100 * 100 - 1 "
        f"ELSE {regular} END",
        # Several pieces of cheap things, one of expensive ones: an order stays under 3,000.
        f"CREATE TEMP MACRO demo_qty(i, l, p) AS CASE "
        f"WHEN p < 10000 THEN 1 + (hash(i, {seed}, 'qty', l) % 10 >= 7)::INT "
        f"+ (hash(i, {seed}, 'qty', l) % 10 >= 9)::INT "
        f"WHEN p < 20000 THEN 1 + (hash(i, {seed}, 'qty', l) % 100 < 15)::INT "
        f"ELSE 1 END",
        # A partial refund returns units of one line, never every unit of the order.
        f"CREATE TEMP MACRO demo_partial_qty(i, l, n, q) AS CASE "
        f"WHEN l <> 1 + (hash(i, {seed}, 'refund-line') % n)::BIGINT THEN 0 "
        f"WHEN n >= 2 THEN 1 + (hash(i, {seed}, 'refund-qty') % q)::BIGINT "
        f"ELSE 1 + (hash(i, {seed}, 'refund-qty') % greatest(q - 1, 1))::BIGINT END",
    ]


def _timed(c: Choices) -> str:
    """The CTEs ``picked`` (each order's channel and store) and ``timed`` (its time in epoch
    seconds and its number of lines)."""
    # Order dates follow a density rising linearly from 0.6 to 1.4 over the period (the
    # business grows); this is its inverse distribution function.
    d0 = 0.6
    day_fraction = (f"(-{d0} + sqrt({d0 ** 2} + {4 * (1 - d0)} * "
                    f"(({c.rand('day', 1_000_000)} + 0.5) / 1e6))) / {2 * (1 - d0)}")
    hour = (f"CASE channel WHEN {ONLINE} THEN {c.pick(hours(ONLINE_HOURS), 'hour')} "
            f"ELSE {c.pick(hours(OFFLINE_HOURS), 'hour')} END")
    slots = (f"CASE o.channel WHEN {ONLINE} THEN {c.online_slots} "
             f"ELSE {c.offline_slots} END")
    return f"""
    picked AS (
        SELECT o.i, o.channel, s.store_no, s.store_id, s.zone, s.provides_items, s.utc_offset
        FROM (
            SELECT i, CASE WHEN {c.rand('channel', 100)} < 60 THEN {ONLINE}
                      ELSE {OFFLINE} END AS channel
            FROM range({c.orders}) t(i)
        ) o
        JOIN demo_slots sl
          ON sl.channel = o.channel AND sl.slot = {c.rand('store', slots, 'o.i')}
        JOIN demo_stores s ON s.store_no = sl.store_no
    ), timed AS (
        SELECT *, ts_raw + CASE WHEN ts_raw < {c.start_epoch} THEN 86400 ELSE 0 END AS ts
        FROM (
            SELECT *,
                {c.start_epoch} + floor({c.days} * ({day_fraction}))::BIGINT * 86400
                + ({hour}) * 3600 + {c.rand('second', 3600)} - utc_offset AS ts_raw,
                CASE WHEN provides_items THEN 1 + ({c.rand('lines', 100)} >= 45)::INT
                     + ({c.rand('lines', 100)} >= 75)::INT
                     + ({c.rand('lines', 100)} >= 90)::INT ELSE 0 END AS n_lines
            FROM picked
        )
    )"""


def _fate(c: Choices) -> str:
    """SQL: an order's fate, from its channel, time and lines."""
    pending_window = PENDING_DAYS * 86400
    return f"""
        CASE
            -- Recent online orders wait for shipping or pick-up, the newest most often.
            WHEN channel = {ONLINE} AND {c.end_epoch} - ts < {pending_window}
                 AND {c.rand('pending', 1000)} < 850.0
                     * ({pending_window} - ({c.end_epoch} - ts)) / {pending_window}
                 THEN {PENDING}
            WHEN channel = {ONLINE} AND {c.rand('status', 1000)} < 83 THEN {CANCEL}
            WHEN {c.rand('status', 1000)} >= 960 THEN {RETURN}
            -- One unit alone cannot be refunded in part by whole units.
            WHEN {c.rand('status', 1000)} >= 900
                 AND (n_lines <> 1 OR q1 > 1) THEN {PARTIAL}
            ELSE {COMPLETED}
        END"""


def base(c: Choices) -> str:
    """``demo_base``: per order its store, time, fate, number of lines, amount and refunded
    amount in cents; order IDs follow the time."""
    # A basket without lines: log-triangular between 5 and 3,000, mostly priced at .99.
    plain = (f"exp(ln(5) + ln(600) * ({c.rand('amount-a', 1_000_000)} + "
             f"{c.rand('amount-b', 1_000_000)}) / 2e6)")
    plain_cents = (f"CASE WHEN {c.rand('amount-form', 100)} < 80 "
                   f"THEN floor({plain})::BIGINT * 100 + 99 "
                   f"ELSE floor({plain} * 100)::BIGINT END")

    def per_line(template: str) -> str:
        return ", ".join(template.format(n=n) for n in range(1, 5))

    lines_cents = c.lines_sum(lambda n: f"q{n} * p{n}")
    refunded_lines_cents = c.lines_sum(
        lambda n: f"demo_partial_qty(i, {n}, n_lines, q{n}) * p{n}")
    return f"""
    CREATE TEMP TABLE demo_base AS
    WITH {_timed(c)}, lined AS (
        -- Garment, price (cents) and quantity of lines 1-4, used up to n_lines.
        SELECT *, {per_line("demo_qty(i, {n}, p{n}) AS q{n}")}
        FROM (SELECT *, {per_line("demo_price(i, {n}, g{n}) AS p{n}")}
              FROM (SELECT *, {per_line("demo_garment(i, {n}) AS g{n}")} FROM timed))
    ), fated AS (
        SELECT *, {_fate(c)} AS fate
        FROM lined
    ), priced AS (
        SELECT *, CASE WHEN n_lines > 0 THEN {lines_cents} ELSE {plain_cents} END
                  AS amount_cents
        FROM fated
    ), refunded AS (
        SELECT i, ts, channel, store_no, store_id, zone, n_lines, fate, amount_cents,
            CASE fate
                WHEN {RETURN} THEN amount_cents
                WHEN {PARTIAL} THEN CASE WHEN n_lines > 0 THEN {refunded_lines_cents}
                    ELSE amount_cents * (10 + {c.rand('refund-share', 81)}) // 100 END
                ELSE 0
            END AS refunded_cents
        FROM priced
    )
    SELECT {FIRST_ORDER_ID - 1} + row_number() OVER (ORDER BY ts, i) AS order_id, *
    FROM refunded
    -- Stored in ID order, the rows go into the tables' indexes in order: faster.
    ORDER BY order_id
    """
