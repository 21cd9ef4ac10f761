"""Every check of an import, as SQL over the staging tables, in the import's transaction.

The SQL finds the bad rows with the patterns and tables of ``core.importer.values`` and
``core.status``, set-based over whole files; where a rule has a pure function, that function
words the reason, so the command line, the Data page and the table tests all read the same words.
The other checks return the values their reason quotes, which are kept beside the reason's one
template (``core.importer.ImportProblem`` writes it in English or translates it) — only for the
bad rows the SQL found. ``run_checks`` returns every problem found; none means the import may be
written.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

from core.db.importing.sql import sql_blank
from core.db.schema import INTEGER_MAX
from core.db.sql_text import sql_in
from core.i18n import N_, Message
from core.importer.report import ImportProblem
from core.importer.values import (
    EMPTY, amount_problem, created_at_problem, shown, start_problem, status_change_problem,
    whole_number_problem,
)
from core.status import (
    ALL_REFUNDED, CHANNELS, IMPORT_MOVES, NOTHING_REFUNDED, STARTING_STATUSES, STATUSES,
)


class _Checker:
    """Runs every check over the staging tables in one cursor; collects what it finds."""

    def __init__(self, cur, files: dict[str, str], now: dt.datetime) -> None:
        self.cur = cur
        self.files = files  # each kind's file name
        self.now = now  # the import's time, where the window of order dates ends
        self.found: list[ImportProblem] = []

    def rows(self, sql: str, params: Sequence = ()) -> list[tuple]:
        return self.cur.execute(sql, list(params)).fetchall()

    def add(self, kind: str, found: Iterable[tuple[int, str, Message]]) -> None:
        """Problems whose reason a pure rule worded."""
        name = self.files[kind]
        self.found.extend(ImportProblem(name, row, column, reason) for row, column, reason in found)

    def reasons(self, kind: str, sql: str, column: str, template: str,
                names: Sequence[str] = (), fixed: dict[str, str] | None = None) -> None:
        """A query returning ``_row`` and the values ``names`` of ``template``, in that order:
        each value as the text DuckDB writes it (amounts cast to VARCHAR in the query);
        ``fixed``: the template's values that are the same for every row."""
        name = self.files[kind]
        for row, *values in self.rows(sql):
            quoted = dict(zip(names, map(str, values)))
            if fixed:
                quoted.update(fixed)
            self.found.append(ImportProblem(name, row, column, template, quoted))

    def explained(self, kind: str, table: str, column: str, typed: str,
                  explain: Callable[[str | None], str | None], *, required: bool = True) -> None:
        """Rows whose typed value is NULL, worded by the pure rule ``explain``."""
        where = f"{typed} IS NULL" + ("" if required else f" AND NOT {sql_blank(column + '_text')}")
        for row, text in self.rows(f"SELECT _row, {column}_text FROM {table} WHERE {where}"):
            self.add(kind, [(row, column, explain(text) or Message(
                N_("is not valid ({value})"), value=shown(str(text))))])

    def required(self, kind: str, table: str, columns: Sequence[str]) -> None:
        for column in columns:
            self.reasons(kind, f"SELECT _row FROM {table} WHERE {sql_blank(column)}", column,
                         EMPTY)


def run_checks(cur, files: dict[str, str], now: dt.datetime) -> list[ImportProblem]:
    """Every problem of the staged files (``files``: each kind's file name, in the kinds'
    order), for an import made at ``now``."""
    checker = _Checker(cur, files, now)
    checks = {"stores": (_check_stores,),
              "orders": (_check_order_values, _check_order_refunds, _check_status_sync),
              "items": (_check_items, _check_frozen_items)}
    for kind in files:
        for check in checks[kind]:
            check(checker)
    return checker.found


def _duplicates(c: _Checker, kind: str, table: str, key: str) -> None:
    """Each row repeating the ``key`` of an earlier row."""
    c.reasons(kind, f"""
        SELECT _row, {key}, first_row
        FROM (SELECT _row, {key}, min(_row) OVER (PARTITION BY {key}) AS first_row
              FROM {table} WHERE {key} IS NOT NULL)
        WHERE _row > first_row""", key,
              N_("duplicate {column} {value} (first in row {first_row})"),
              ("value", "first_row"), {"column": key})


def _check_stores(c: _Checker) -> None:
    c.required("stores", "v_stores", ("store_id", "store_name", "legal_entity", "region", "zone"))
    _duplicates(c, "stores", "v_stores", "store_id")


def _check_order_values(c: _Checker) -> None:
    k, t = "orders", "v_orders"
    c.explained(k, t, "order_id", "order_id", whole_number_problem)
    _duplicates(c, k, t, "order_id")
    c.explained(k, t, "created_at", "created_at",
                lambda text: created_at_problem(text, now=c.now))
    c.explained(k, t, "amount", "amount", amount_problem)
    c.explained(k, t, "refunded_amount", "refunded_amount",
                lambda text: amount_problem(text, zero_allowed=True), required=False)
    c.required(k, t, ("status", "channel", "store_id"))
    _check_known_values(c)
    starts = [f"{channel}>{status}" for channel, statuses in STARTING_STATUSES.items()
              for status in statuses]
    for row, status, channel in c.rows(f"""
            SELECT _row, status, channel FROM v_orders
            WHERE status IN {sql_in(STATUSES)} AND channel IN {sql_in(CHANNELS)}
              AND channel || '>' || status NOT IN {sql_in(starts)}"""):
        c.add(k, [(row, "status", start_problem(status, channel))])
    c.reasons(k, f"""
        SELECT _row, store_id
        FROM v_orders o
        WHERE NOT {sql_blank('store_id')}
          AND store_id NOT IN (SELECT store_id FROM stores)
          AND store_id NOT IN (SELECT store_id FROM v_stores WHERE store_id IS NOT NULL)""",
              "store_id",
              N_("unknown store {store_id} (not in the stores file nor in the database)"),
              ("store_id",))


def _check_known_values(c: _Checker) -> None:
    """A status and a channel are one of the file format's values (named as the file writes
    them: the values are placeholders, not words to translate)."""
    c.reasons("orders", f"""
        SELECT _row, status
        FROM v_orders WHERE NOT {sql_blank('status')} AND status NOT IN {sql_in(STATUSES)}""",
              "status", N_("unknown status {status} (use {statuses})"), ("status",),
              {"statuses": ", ".join(STATUSES)})
    one, other = CHANNELS
    c.reasons("orders", f"""
        SELECT _row, channel
        FROM v_orders WHERE NOT {sql_blank('channel')} AND channel NOT IN {sql_in(CHANNELS)}""",
              "channel", N_("unknown channel {channel} (use {one} or {other})"), ("channel",),
              {"one": one, "other": other})


def _check_order_refunds(c: _Checker) -> None:
    """The refunded amount as stated in the file (blank = not stated; see ``writing``)."""
    k = "orders"
    c.reasons(k, """
        SELECT _row, refunded_amount::VARCHAR, amount::VARCHAR
        FROM v_orders WHERE refunded_amount > amount""", "refunded_amount",
              N_("is greater than the amount ({refunded} > {amount})"), ("refunded", "amount"))
    c.reasons(k, f"""
        SELECT _row, status, refunded_amount::VARCHAR, amount::VARCHAR
        FROM v_orders
        WHERE status IN {sql_in(ALL_REFUNDED)} AND refunded_amount <> amount
          AND refunded_amount <= amount""", "refunded_amount",
              N_("a {status} is fully refunded: it must equal the amount ({refunded} ≠ {amount})"),
              ("status", "refunded", "amount"))
    c.reasons(k, f"""
        SELECT _row, status, refunded_amount::VARCHAR
        FROM v_orders WHERE status IN {sql_in(NOTHING_REFUNDED)} AND refunded_amount > 0""",
              "refunded_amount",
              N_("a {status} order has no refunds: it must be 0 or empty ({refunded})"),
              ("status", "refunded"))


def _check_status_sync(c: _Checker) -> None:
    """A re-imported order: its status moves within ``IMPORT_MOVES``, its refunds never shrink,
    and an order with refunds keeps its amount; no order moves to another store."""
    k = "orders"
    allowed = [f"{old}>{new}" for old, news in IMPORT_MOVES.items() for new in news]
    for row, order_id, current, requested in c.rows(f"""
            SELECT o._row, o.order_id, db.status, o.status
            FROM v_orders o JOIN orders db USING (order_id)
            WHERE o.status IN {sql_in(STATUSES)}
              AND db.status || '>' || o.status NOT IN {sql_in(allowed)}"""):
        c.add(k, [(row, "status", Message(N_("order {order_id}: {reason}"),
                                          order_id=str(order_id),
                                          reason=status_change_problem(current, requested)))])
    c.reasons(k, """
        SELECT o._row, order_id, db.refunded_amount::VARCHAR, o.refunded_amount::VARCHAR
        FROM v_orders o JOIN orders db USING (order_id)
        WHERE o.refunded_amount < db.refunded_amount""", "refunded_amount",
              N_("would lower the refunded amount of order {order_id} from {old} to {new}"),
              ("order_id", "old", "new"))
    c.reasons(k, """
        SELECT o._row, order_id, db.amount::VARCHAR, o.amount::VARCHAR
        FROM v_orders o JOIN orders db USING (order_id)
        WHERE o.amount <> db.amount AND order_id IN (SELECT order_id FROM refunded_orders)""",
              "amount",
              N_("order {order_id} has refunds: its amount cannot change ({old} → {new})"),
              ("order_id", "old", "new"))
    # DuckDB cannot update the store_id of an order that has lines or events (its foreign keys
    # are checked as if the row were deleted), and an order does not move between stores anyway.
    c.reasons(k, """
        SELECT o._row, order_id, db.store_id
        FROM v_orders o JOIN orders db USING (order_id)
        WHERE o.store_id <> db.store_id""", "store_id",
              N_("order {order_id} belongs to store {store_id}: an import cannot move it to "
                 "another store"), ("order_id", "store_id"))


def _check_items(c: _Checker) -> None:
    k, t = "items", "v_items"
    c.explained(k, t, "order_id", "order_id", whole_number_problem)
    c.reasons(k, """
        SELECT _row, order_id
        FROM v_items
        WHERE order_id IS NOT NULL
          AND order_id NOT IN (SELECT order_id FROM orders)
          AND order_id NOT IN (SELECT order_id FROM v_orders WHERE order_id IS NOT NULL)""",
              "order_id",
              N_("unknown order {order_id} (not in the orders file nor in the database)"),
              ("order_id",))
    c.explained(k, t, "line_no", "line_no",
                lambda text: whole_number_problem(text, max_value=INTEGER_MAX))
    c.required(k, t, ("name",))
    c.explained(k, t, "quantity", "quantity",
                lambda text: whole_number_problem(text, max_value=INTEGER_MAX))
    c.explained(k, t, "unit_price", "unit_price",
                lambda text: amount_problem(text, zero_allowed=True))
    c.reasons(k, """
        SELECT _row, line_no, order_id, first_row
        FROM (SELECT _row, order_id, line_no,
                     min(_row) OVER (PARTITION BY order_id, line_no) AS first_row
              FROM v_items WHERE order_id IS NOT NULL AND line_no IS NOT NULL)
        WHERE _row > first_row""", "line_no",
              N_("duplicate line {line_no} of order {order_id} (first in row {first_row})"),
              ("line_no", "order_id", "first_row"))


def _check_frozen_items(c: _Checker) -> None:
    """An order with refunds keeps its lines: none added, none changed. (A line whose number is
    not valid is reported by ``_check_items``.)"""
    k = "items"
    locked = "i.order_id IN (SELECT order_id FROM refunded_orders)"
    c.reasons(k, f"""
        SELECT i._row, i.order_id, i.line_no
        FROM v_items i LEFT JOIN order_items db USING (order_id, line_no)
        WHERE {locked} AND db.order_id IS NULL AND i.line_no IS NOT NULL""", "line_no",
              N_("order {order_id} has refunds: a line cannot be added to it (line {line_no})"),
              ("order_id", "line_no"))
    for column in ("name", "quantity", "unit_price"):
        c.reasons(k, f"""
            SELECT i._row, i.order_id, db.{column}::VARCHAR, i.{column}::VARCHAR
            FROM v_items i JOIN order_items db USING (order_id, line_no)
            WHERE {locked} AND i.{column} IS DISTINCT FROM db.{column}
              AND i.{column} IS NOT NULL""", column,
                  N_("order {order_id} has refunds: its lines cannot change ({old} → {new})"),
                  ("order_id", "old", "new"))
