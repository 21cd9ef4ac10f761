"""The database schema: one DuckDB file holds stores, orders, item lines and the action history.

Times are stored as naive UTC ``TIMESTAMP``; money as ``DECIMAL(18,2)``. The CHECK constraints
are backstops for the rules in ``core.rules``: the guarded writes never rely on them alone.
"""
from __future__ import annotations

SCHEMA_VERSION = 1

STATUSES = ("Pending", "Completed", "Cancel", "Return")
CHANNELS = ("online", "offline")

DDL = """
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
    amount            DECIMAL(18,2) NOT NULL CHECK (amount > 0),
    refunded_amount   DECIMAL(18,2) NOT NULL DEFAULT 0
                      CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
    status            VARCHAR NOT NULL
                      CHECK (status IN ('Pending', 'Completed', 'Cancel', 'Return')),
    channel           VARCHAR NOT NULL CHECK (channel IN ('online', 'offline')),
    email             VARCHAR,
    phone             VARCHAR,
    phone_digits      VARCHAR,
    store_id          VARCHAR NOT NULL REFERENCES stores (store_id),
    salesperson_id    VARCHAR,
    salesperson_name  VARCHAR,
    CHECK (status <> 'Pending' OR channel = 'online'),
    CHECK (status <> 'Return' OR refunded_amount = amount),
    CHECK (status NOT IN ('Pending', 'Cancel') OR refunded_amount = 0)
);

CREATE TABLE IF NOT EXISTS order_items (
    order_id          BIGINT NOT NULL REFERENCES orders (order_id),
    line_no           INTEGER NOT NULL,
    name              VARCHAR NOT NULL,
    quantity          INTEGER NOT NULL CHECK (quantity > 0),
    unit_price        DECIMAL(18,2) NOT NULL CHECK (unit_price >= 0),
    refunded_quantity INTEGER NOT NULL DEFAULT 0
                      CHECK (refunded_quantity >= 0 AND refunded_quantity <= quantity),
    PRIMARY KEY (order_id, line_no)
);

CREATE SEQUENCE IF NOT EXISTS order_event_ids START 1000001;

-- Every cancel and refund, appended and never edited. ``items`` is JSON text:
-- [{"line_no": 1, "name": "...", "quantity": 2, "unit_price": "9.99"}, ...].
CREATE TABLE IF NOT EXISTS order_events (
    event_id        BIGINT PRIMARY KEY DEFAULT nextval('order_event_ids'),
    order_id        BIGINT NOT NULL REFERENCES orders (order_id),
    kind            VARCHAR NOT NULL CHECK (kind IN ('refund', 'cancel')),
    amount          DECIMAL(18,2) NOT NULL DEFAULT 0 CHECK (amount >= 0),
    items           VARCHAR,
    reason          VARCHAR,
    username        VARCHAR NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    idempotency_key VARCHAR NOT NULL UNIQUE
);
"""
