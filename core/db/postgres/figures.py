"""The Overview's reads on PostgreSQL for a view counted by hour (``core.db.postgres.summary``):
its totals, days, channels and statuses summed from ``order_hours`` instead of grouping the
period's millions of orders; only the stores' figures are read from the orders (the index on the
time holds the store and the amount, so the table itself is not read)."""
from __future__ import annotations

from core.db.moments import readable_sql
from core.db.postgres.summary import HoursView
from core.status import Status

TOTALS = (
    "SELECT coalesce(sum(o.orders), 0), coalesce(sum(o.amount), 0), "
    "coalesce(sum(o.refunded_amount), 0), "
    f"coalesce(sum(o.orders) FILTER (WHERE o.status = '{Status.CANCEL}'), 0) "
    "FROM order_hours o WHERE {where}"
)


def breakdown_sql(hours: HoursView, where: str, groups: tuple[int, int, int]) -> str:
    """The rows of ``core.db.figures._breakdown_sql`` (grouping, day, channel, status, store,
    store name, region, orders, captured, refunded): days and channels, and statuses, from the
    hours (whole UTC hours: the zone's midnight is one); the stores from the orders ``where``
    selects. Parameters: the zone, the hours' twice, then the orders'."""
    by_day, by_status, by_store = groups
    return f"""
        SELECT {by_day}, CASE WHEN {readable_sql("o.hour")}
                         THEN CAST(timezone(?, o.hour::TIMESTAMPTZ) AS DATE) END AS day,
               o.channel, NULL, NULL, NULL, NULL,
               sum(o.orders), sum(o.amount), sum(o.refunded_amount)
        FROM order_hours o WHERE {hours.where} GROUP BY day, o.channel
        UNION ALL
        SELECT {by_status}, NULL, NULL, o.status, NULL, NULL, NULL,
               sum(o.orders), sum(o.amount), sum(o.refunded_amount)
        FROM order_hours o WHERE {hours.where} GROUP BY o.status
        UNION ALL
        SELECT {by_store}, NULL, NULL, NULL, c.store_id, st.store_name, st.region, c.n, c.amount, 0
        FROM (SELECT o.store_id, count(*) AS n, sum(o.amount) AS amount FROM orders o
              WHERE {where} GROUP BY o.store_id) c
        LEFT JOIN stores st ON st.store_id = c.store_id
    """
