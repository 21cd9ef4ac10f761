"""The schema on PostgreSQL: the same tables and columns as the DuckDB file's
(``core.db.schema``), so that the statements both engines understand are written once, with the
status machine's CHECKs generated from ``core.status`` as there.

The first read-write open of each process creates what is missing and upgrades an older schema,
in one transaction under an advisory lock, so that replicas starting together do it once.
"""
from __future__ import annotations

from core.db.schema import check_constraints, sql_list
from core.money import MAX_AMOUNT
from core.status import Action
from core.users import ROLES

SCHEMA_VERSION = 1  # of the PostgreSQL schema; the DuckDB file counts its own
# The advisory lock every process takes to create or upgrade the schema (any fixed number).
SCHEMA_LOCK = 7_201_101

_STATUS_CHECKS = ",\n    ".join(f"CHECK ({check})" for check in check_constraints())

TABLES = f"""
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
    {_STATUS_CHECKS}
);

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

CREATE TABLE IF NOT EXISTS order_events (
    event_id        BIGINT PRIMARY KEY DEFAULT nextval('order_event_ids'),
    order_id        BIGINT NOT NULL REFERENCES orders (order_id),
    kind            VARCHAR NOT NULL CHECK (kind IN {sql_list(Action)}),
    amount          DECIMAL(18,2) NOT NULL DEFAULT 0 CHECK (amount >= 0),
    items           VARCHAR,
    reason          VARCHAR,
    username        VARCHAR NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    idempotency_key VARCHAR NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS order_events_order ON order_events (order_id);
"""

# The users, their revocation times and the sign-in throttle's failures (``core.db.postgres.users``):
# in the server mode they live here, so every replica agrees at once. ``users_version`` counts every
# change of ``users``, so that a process knows with one read of one row whether its copy is
# current. ``signin_failures.at`` is a Unix time from the app's clock, as the in-memory throttle's.
USERS_TABLES = f"""
CREATE TABLE IF NOT EXISTS users (
    username            VARCHAR PRIMARY KEY,
    name                VARCHAR NOT NULL,
    email               VARCHAR NOT NULL DEFAULT '',
    password_hash       VARCHAR NOT NULL CHECK (password_hash LIKE '$2%'),
    role                VARCHAR NOT NULL CHECK (role IN {sql_list(ROLES)}),
    legal_entities      VARCHAR[] NOT NULL DEFAULT '{{}}',
    stores              VARCHAR[] NOT NULL DEFAULT '{{}}',
    sessions_valid_from TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS users_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO users_version VALUES (1, 0) ON CONFLICT (id) DO NOTHING;

CREATE TABLE IF NOT EXISTS signin_failures (
    kind VARCHAR NOT NULL CHECK (kind IN ('user', 'client')),
    key  VARCHAR NOT NULL,
    at   DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS signin_failures_key ON signin_failures (kind, key, at);
CREATE INDEX IF NOT EXISTS signin_failures_at ON signin_failures (at);
"""

# The indexes the reads use (how each was chosen: docs/design.md, PostgreSQL).
INDEXES = """
"""


def create_or_upgrade(cur) -> None:
    """Create what is missing and record the schema's version, once across processes."""
    cur.execute("BEGIN")
    try:
        cur.execute("SELECT pg_advisory_xact_lock(?)", [SCHEMA_LOCK])
        cur.execute(TABLES)
        cur.execute(USERS_TABLES)
        if INDEXES.strip():
            cur.execute(INDEXES)
        cur.execute(
            "INSERT INTO meta VALUES ('schema_version', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [str(SCHEMA_VERSION)],
        )
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    cur.execute("COMMIT")
