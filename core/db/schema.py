"""The database schema: one DuckDB file holds stores, orders, item lines and the action history,
and the search index of the orders (derived from them; see ``SEARCH_ROWS``).

Times are stored as naive UTC ``TIMESTAMP``; money as ``DECIMAL(18,2)``, at most
``core.money.MAX_AMOUNT`` (a database created before that limit keeps its tables without it).
The CHECK constraints are backstops for the rules in ``core.rules``: the guarded writes never
rely on them alone. Those of the status machine (the statuses, the channels, what an order's
refunded amount must be in each status) are generated from ``core.status``, the one place the
machine is written; tests/db/test_schema.py checks them against it on a real file.
"""
from __future__ import annotations

from core.money import MAX_AMOUNT
# CHANNELS and STATUSES are imported from here too, as the columns' allowed values.
from core.db.sql_text import sql_in, sql_literal
from core.status import (ALL_REFUNDED, CHANNELS, NOTHING_REFUNDED, STARTING_STATUSES, STATUSES,
                         Action, Channel, Status)

SCHEMA_VERSION = 3  # 2: the search index and the sort keys of phones and e-mails; 3: reason codes

# The largest whole numbers the integer columns hold (order IDs, line numbers, quantities).
BIGINT_MAX = 2**63 - 1
INTEGER_MAX = 2**31 - 1

# The columns of the search index's two tables (see below the DDL).
SEARCH_COLUMNS = """(
    store_no          INTEGER NOT NULL,
    order_id          BIGINT NOT NULL,
    merchant_key      UBIGINT,
    phone_sig         UBIGINT,
    phone_key         BIGINT,
    phone_long        VARCHAR,
    email             VARCHAR
)"""



def sql_list(values) -> str:
    """``('a', 'b')`` for SQL's ``IN``, sorted: the machine's own words, never anything typed."""
    return sql_in(sorted(values))


def check_constraints() -> list[str]:
    """The status machine's constraints on an order (``core.status``), as SQL CHECKs."""
    never_offline = set(Status) - STARTING_STATUSES[Channel.OFFLINE]
    return [
        f"status IN {sql_list(STATUSES)}",
        f"channel IN {sql_list(CHANNELS)}",
        f"status NOT IN {sql_list(never_offline)} OR channel = {sql_literal(Channel.ONLINE)}",
        f"status NOT IN {sql_list(ALL_REFUNDED)} OR refunded_amount = amount",
        f"status NOT IN {sql_list(NOTHING_REFUNDED)} OR refunded_amount = 0",
    ]


_STATUS_CHECKS = ",\n    ".join(f"CHECK ({check})" for check in check_constraints())

DDL = f"""
CREATE TABLE IF NOT EXISTS meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS stores (
    store_id          VARCHAR PRIMARY KEY,
    store_name        VARCHAR NOT NULL,
    store_address     VARCHAR,
    merchant_store_id VARCHAR,
    brand             VARCHAR,
    legal_entity      VARCHAR NOT NULL,
    region            VARCHAR NOT NULL,
    zone              VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS orders (
    order_id          BIGINT PRIMARY KEY,
    created_at        TIMESTAMP NOT NULL,
    merchant_order_id VARCHAR,
    amount            DECIMAL(18,2) NOT NULL CHECK (amount > 0 AND amount <= {MAX_AMOUNT}),
    refunded_amount   DECIMAL(18,2) NOT NULL DEFAULT 0
                      CHECK (refunded_amount >= 0 AND refunded_amount <= amount
                             AND refunded_amount <= {MAX_AMOUNT}),
    status            VARCHAR NOT NULL,
    channel           VARCHAR NOT NULL,
    email             VARCHAR,
    phone             VARCHAR,
    phone_digits      VARCHAR,
    store_id          VARCHAR NOT NULL REFERENCES stores (store_id),
    salesperson_id    VARCHAR,
    salesperson_name  VARCHAR,
    phone_sort        UBIGINT,  -- sort_key(phone), written with the search index
    email_sort        UBIGINT,  -- sort_key(email)
    {_STATUS_CHECKS}
);

-- Added in schema 2 (the search index fills them in a database of schema 1).
ALTER TABLE orders ADD COLUMN IF NOT EXISTS phone_sort UBIGINT;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS email_sort UBIGINT;

CREATE TABLE IF NOT EXISTS order_items (
    order_id          BIGINT NOT NULL REFERENCES orders (order_id),
    line_no           INTEGER NOT NULL,
    name              VARCHAR NOT NULL,
    quantity          INTEGER NOT NULL CHECK (quantity > 0),
    unit_price        DECIMAL(18,2) NOT NULL CHECK (unit_price >= 0 AND unit_price <= {MAX_AMOUNT}),
    refunded_quantity INTEGER NOT NULL DEFAULT 0
                      CHECK (refunded_quantity >= 0 AND refunded_quantity <= quantity),
    PRIMARY KEY (order_id, line_no)
);

CREATE SEQUENCE IF NOT EXISTS order_event_ids START 1000001;

-- Every cancel and refund, appended and never edited. ``items`` is JSON text:
-- [{{"line_no": 1, "name": "...", "quantity": 2, "unit_price": "9.99"}}, ...].
-- ``reason`` is the free text typed with the action (a refund's "Comment"); ``reason_code`` a
-- refund's reason from ``core.refunds.REASONS`` (NULL for cancels and for refunds stored before
-- schema 3, which the register shows as "Not recorded").
CREATE TABLE IF NOT EXISTS order_events (
    event_id        BIGINT PRIMARY KEY DEFAULT nextval('order_event_ids'),
    order_id        BIGINT NOT NULL REFERENCES orders (order_id),
    kind            VARCHAR NOT NULL CHECK (kind IN {sql_list(Action)}),
    amount          DECIMAL(18,2) NOT NULL DEFAULT 0 CHECK (amount >= 0),
    items           VARCHAR,
    reason          VARCHAR,
    username        VARCHAR NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    idempotency_key VARCHAR NOT NULL UNIQUE,
    reason_code     VARCHAR
);

-- Added in schema 3: a refund's reason code.
ALTER TABLE order_events ADD COLUMN IF NOT EXISTS reason_code VARCHAR;

CREATE TABLE IF NOT EXISTS search_stores (
    store_id VARCHAR PRIMARY KEY,
    store_no INTEGER NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS order_search {SEARCH_COLUMNS};
CREATE TABLE IF NOT EXISTS order_search_recent {SEARCH_COLUMNS};
"""

# The search index (``search_stores``, ``order_search`` and ``order_search_recent`` above) holds
# what "Search" matches (docs/design.md §2), one row per order. ``order_search`` is clustered by
# store in row groups of 4,096 rows (``core.db.search_index.SEARCH_ROW_GROUP_SIZE``): a search of a user with
# 50 stores reads only the row groups of those stores instead of every order's phone and e-mail. It
# is written only by ``core.db.search_index.cluster_search_index``, on a connection of its own that sets
# that row group size (the store's connection keeps DuckDB's 122,880 for the orders, and turns
# off the checkpoint's vacuum, which would merge the index's row groups to its size). The orders
# written since (imports, the demo) have their rows in ``order_search_recent``, written in the
# same transaction (``core.db.search_index.index_orders``), which replace theirs in ``order_search``; the
# rebuild takes them in when they have grown.
#   store_no      the store's number in ``search_stores``: integers filter much faster than text
#   merchant_key  ``hash(merchant_order_id)``: a match is confirmed on ``orders``
#   phone_sig     a bit per pair of adjacent digits of the phone (``phone_signature``): a phone
#                 lacking a bit of the searched digits' signature cannot contain them
#   phone_key     the phone's digits behind a leading 1 (``'1' || digits``), up to 17 digits:
#                 "contains" becomes integer arithmetic (``core.db.search_index.index_match``)
#   phone_long    the digits of a longer phone (rare), matched as text
#   email         lower-cased
# Measured on 5M orders, 50 stores: text columns instead of the keys made a search 2-3x slower.
PHONE_KEY_DIGITS = 17  # '1' and 17 digits stay below 2^63


def phone_signature(digits: str) -> int:
    """The bits of ``phone_sig`` for these digits (the SQL in ``SEARCH_ROWS`` computes the same)."""
    signature = 0
    for pair in zip(digits, digits[1:]):
        signature |= 1 << (int("".join(pair)) % 64)
    return signature



def sort_key(column: str) -> str:
    """SQL for an integer that sorts like the text ``column``: its first 8 bytes (UTF-8, padded
    with zeros), big-endian. Texts with different keys compare like their keys; equal keys say
    nothing. A page sorted by phone or e-mail is first narrowed by it (``core.db``)."""
    return f"CAST('0x' || rpad(left(hex(encode({column})), 16), 16, '0') AS UBIGINT)"


# The index rows of the orders ``o`` (with ``search_stores ss``); clustered: ORDER BY store_no, order_id.
SEARCH_ROWS = f"""
    SELECT ss.store_no, o.order_id, hash(o.merchant_order_id),
           coalesce(list_aggregate(list_transform(range(1, length(o.phone_digits)),
               lambda i: 1::UBIGINT << (CAST(substr(o.phone_digits, i, 2) AS INTEGER) % 64)),
               'bit_or'), 0),
           CASE WHEN length(o.phone_digits) <= {PHONE_KEY_DIGITS}
                THEN CAST('1' || o.phone_digits AS BIGINT) END,
           CASE WHEN length(o.phone_digits) > {PHONE_KEY_DIGITS} THEN o.phone_digits END,
           lower(o.email)
    FROM orders o JOIN search_stores ss ON ss.store_id = o.store_id
"""
