"""The files of an import as typed temporary tables, in the import's transaction.

DuckDB reads each file straight into them: ``v_stores``, ``v_orders`` and ``v_items`` hold each
value typed, or NULL where it is invalid, beside its text (``<column>_text``) for the report. An
absent file stages no rows. ``refunded_orders`` lists the orders of the import that have refunds in
the database: their amount and lines are frozen.
"""
from __future__ import annotations

import datetime as dt

from core.db.importing.files import StagedFile
from core.db.importing.sql import sql_amount, sql_created_at, sql_text, sql_whole_number
from core.db.schema import INTEGER_MAX
from core.importer.formats import COLUMNS, KINDS


def _sources(staged: dict[str, StagedFile]) -> dict[str, tuple[str, list]]:
    """Per kind, a relation of text columns named as the file format's (absent ones NULL)."""
    sources: dict[str, tuple[str, list]] = {}
    for kind in KINDS:
        columns = COLUMNS[kind]
        if kind in staged:
            one = staged[kind]
            present = set(one.columns)
            select = ", ".join(
                f'CAST("{c}" AS VARCHAR) AS {c}' if c in present else f"CAST(NULL AS VARCHAR) AS {c}"
                for c in columns
            )
            sources[kind] = (f"(SELECT CAST(_row AS BIGINT) AS _row, {select} FROM {one.source})",
                             one.params)
        else:
            select = ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in columns)
            sources[kind] = (f"(SELECT CAST(NULL AS BIGINT) AS _row, {select} WHERE false)", [])
    return sources


def stage_files(cur, staged: dict[str, StagedFile], now: dt.datetime) -> None:
    """``v_stores``, ``v_orders`` and ``v_items``: the files' rows of ``staged`` typed, for an
    import made at ``now`` (naive UTC)."""
    sources = _sources(staged)
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE v_stores AS
        SELECT _row, store_id, store_name, {sql_text('store_address')} AS store_address,
               {sql_text('merchant_store_id')} AS merchant_store_id, {sql_text('brand')} AS brand,
               legal_entity, region, zone
        FROM {sources['stores'][0]}""", sources["stores"][1])
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE v_orders AS
        SELECT _row,
               order_id AS order_id_text, {sql_whole_number('order_id')} AS order_id,
               created_at AS created_at_text, {sql_created_at('created_at', now=now)} AS created_at,
               {sql_text('merchant_order_id')} AS merchant_order_id,
               amount AS amount_text, {sql_amount('amount')} AS amount,
               refunded_amount AS refunded_amount_text,
               {sql_amount('refunded_amount', zero_allowed=True)} AS refunded_amount,
               status, channel, {sql_text('email')} AS email, {sql_text('phone')} AS phone,
               store_id, {sql_text('salesperson_id')} AS salesperson_id,
               {sql_text('salesperson_name')} AS salesperson_name
        FROM {sources['orders'][0]}""", sources["orders"][1])
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE v_items AS
        SELECT _row,
               order_id AS order_id_text, {sql_whole_number('order_id')} AS order_id,
               line_no AS line_no_text, {sql_whole_number('line_no', max_value=INTEGER_MAX)} AS line_no,
               name,
               quantity AS quantity_text,
               {sql_whole_number('quantity', max_value=INTEGER_MAX)} AS quantity,
               unit_price AS unit_price_text,
               {sql_amount('unit_price', zero_allowed=True)} AS unit_price
        FROM {sources['items'][0]}""", sources["items"][1])


def stage_refunded(cur) -> None:
    """``refunded_orders``: the orders of the import with refunds in the database (read after the
    database's rows of the import are where the checks run, ``core.db.importing.session``)."""
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE refunded_orders AS
        SELECT order_id FROM orders
        WHERE refunded_amount > 0
          AND order_id IN (SELECT order_id FROM v_orders UNION SELECT order_id FROM v_items)
        UNION
        SELECT order_id FROM order_items
        WHERE refunded_quantity > 0
          AND order_id IN (SELECT order_id FROM v_orders UNION SELECT order_id FROM v_items)""")
