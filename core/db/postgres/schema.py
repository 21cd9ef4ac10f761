"""The schema on PostgreSQL: the same tables and columns as the DuckDB file's
(``core.db.schema``), so that the statements both engines understand are written once, with the
status machine's CHECKs generated from ``core.status`` as there.

The first read-write open of each process creates what is missing and upgrades an older schema,
in one transaction under an advisory lock, so that replicas starting together do it once.
"""
from __future__ import annotations

from core.db.postgres import summary
from core.db.schema import check_constraints, sql_list
from core.db.sql_text import sql_literal
from core.i18n import LANGUAGES
from core.importer.formats import IMPORT_USERNAME
from core.money import MAX_AMOUNT
from core.refunds import IMPORTED, NOT_RECORDED
from core.status import Action
from core.users import ROLES

# Of the PostgreSQL schema (2: reason codes; 3: the month and store-trigram indexes; 4: the users'
# language; 5: each event's store and the register's indexes); the DuckDB file counts its own.
SCHEMA_VERSION = 5
# The advisory lock every process takes to create or upgrade the schema (any fixed number).
SCHEMA_LOCK = 7_201_101

_STATUS_CHECKS = ",\n    ".join(f"CHECK ({check})" for check in check_constraints())

# Added in schema 5: each event carries its order's store, so that the Refunds register starts
# from the scope's stores in an index of the events instead of joining the period's events with
# the scope's orders (docs/stack-facts.md, PostgreSQL, "Refunds register"). An order never moves
# to another store (an import refuses to), so the copy never goes stale. A trigger fills it for
# every new event, whoever writes it (a refund, a cancel, an import, ``COPY`` from a DuckDB
# file); the events already there are filled once, by the upgrade, which holds their tables.
EVENT_STORE = """
ALTER TABLE order_events ADD COLUMN IF NOT EXISTS store_id VARCHAR;
CREATE OR REPLACE FUNCTION order_event_store() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    IF NEW.store_id IS NULL THEN
        SELECT o.store_id INTO NEW.store_id FROM orders o WHERE o.order_id = NEW.order_id;
    END IF;
    RETURN NEW;
END $f$;
CREATE OR REPLACE TRIGGER order_events_store BEFORE INSERT ON order_events
    FOR EACH ROW EXECUTE FUNCTION order_event_store();
UPDATE order_events e SET store_id = o.store_id FROM orders o
    WHERE o.order_id = e.order_id AND e.store_id IS NULL;
ALTER TABLE order_events ALTER COLUMN store_id SET NOT NULL;
"""

# The texts a page sorts by compare as DuckDB's do, by their bytes (``COLLATE "C"``), whatever
# the database's default collation is.
TABLES = f"""
CREATE TABLE IF NOT EXISTS meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS stores (
    store_id          VARCHAR PRIMARY KEY,
    store_name        VARCHAR COLLATE "C" NOT NULL,
    store_address     VARCHAR,
    merchant_store_id VARCHAR COLLATE "C",
    brand             VARCHAR,
    legal_entity      VARCHAR COLLATE "C" NOT NULL,
    region            VARCHAR COLLATE "C" NOT NULL,
    zone              VARCHAR COLLATE "C" NOT NULL
);

CREATE TABLE IF NOT EXISTS orders (
    order_id          BIGINT PRIMARY KEY,
    created_at        TIMESTAMP NOT NULL,
    merchant_order_id VARCHAR COLLATE "C",
    amount            DECIMAL(18,2) NOT NULL CHECK (amount > 0 AND amount <= {MAX_AMOUNT}),
    refunded_amount   DECIMAL(18,2) NOT NULL DEFAULT 0
                      CHECK (refunded_amount >= 0 AND refunded_amount <= amount
                             AND refunded_amount <= {MAX_AMOUNT}),
    status            VARCHAR COLLATE "C" NOT NULL,
    channel           VARCHAR COLLATE "C" NOT NULL,
    email             VARCHAR COLLATE "C",
    phone             VARCHAR COLLATE "C",
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
    idempotency_key VARCHAR NOT NULL UNIQUE,
    reason_code     VARCHAR,  -- a refund's reason (core.db.schema says more)
    store_id        VARCHAR   -- the order's store (EVENT_STORE)
);
-- Added in schema 2: a refund's reason code.
ALTER TABLE order_events ADD COLUMN IF NOT EXISTS reason_code VARCHAR;
CREATE INDEX IF NOT EXISTS order_events_order ON order_events (order_id);
{EVENT_STORE}
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
-- Added in schema 4: the user's language (core.i18n.LANGUAGES).
ALTER TABLE users ADD COLUMN IF NOT EXISTS language VARCHAR NOT NULL DEFAULT 'en'
    CHECK (language IN {sql_list(LANGUAGES)});

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

# The indexes the reads use (how each was chosen: docs/design.md, PostgreSQL; measured:
# docs/stack-facts.md, PostgreSQL). A page walks the index of its sort column in the screen's order
# (``core.db.postgres.paging``); each carries the columns the view's conditions test (store, time,
# status, channel), so that they are checked in the index without reading the table. The
# descending twins of the columns that may be empty give "empty last" in both directions. The
# trigram indexes answer the searches' "contains" (``pg_trgm``, shipped with PostgreSQL; creating
# the extension needs a superuser or a database owner allowed to, once). The merchant order ID is
# walked month by month (``core.db.postgres.paging.ids_by_months``), on indexes led by the month;
# an e-mail searched within some stores asks ``orders_email_store_trgm``, whose keys are each
# order's e-mail trigrams prefixed by its store (``core.db.postgres.sql.email_in_stores``); its
# function names pg_trgm's schema, as it runs under any session's search_path (autovacuum's too),
# and is one expression (no subquery), so that PostgreSQL inlines it: 8 µs an order, 12 µs as
# ``ARRAY(SELECT … FROM unnest(…))``. (A trigram never holds "|".)
_COVER = "INCLUDE (created_at, store_id, status, channel)"
# A refund's reason as the register reads and sorts it: ``core.db.refunds.REFUND_REASON_SQL``
# over the events' own columns (the register's sort by reason walks its index).
_REFUND_REASON = (f"coalesce(reason_code, CASE WHEN username = {sql_literal(IMPORT_USERNAME)} "
                  f"THEN {sql_literal(IMPORTED)} ELSE {sql_literal(NOT_RECORDED)} END)")
INDEXES = f"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS orders_time ON orders (created_at, order_id)
    INCLUDE (store_id, status, channel, amount);
CREATE INDEX IF NOT EXISTS orders_store_time ON orders (store_id, created_at)
    INCLUDE (amount, status, channel);
CREATE INDEX IF NOT EXISTS orders_store_id ON orders (store_id, order_id)
    INCLUDE (created_at, status, channel);
CREATE INDEX IF NOT EXISTS orders_id ON orders (order_id) {_COVER};
CREATE INDEX IF NOT EXISTS orders_amount ON orders (amount, order_id) {_COVER};
CREATE INDEX IF NOT EXISTS orders_refunded ON orders (refunded_amount, order_id) {_COVER};
CREATE INDEX IF NOT EXISTS orders_status ON orders (status, order_id) {_COVER};
CREATE INDEX IF NOT EXISTS orders_channel ON orders (channel, order_id) {_COVER};
CREATE INDEX IF NOT EXISTS orders_merchant ON orders (merchant_order_id, order_id) {_COVER};
DROP INDEX IF EXISTS orders_merchant_desc;
CREATE INDEX IF NOT EXISTS orders_merchant_month
    ON orders (date_trunc('month', created_at), merchant_order_id, order_id) {_COVER};
CREATE INDEX IF NOT EXISTS orders_merchant_month_desc
    ON orders (date_trunc('month', created_at), merchant_order_id DESC NULLS LAST, order_id DESC)
    {_COVER};
CREATE INDEX IF NOT EXISTS orders_email ON orders (email, order_id) {_COVER};
CREATE INDEX IF NOT EXISTS orders_email_desc
    ON orders (email DESC NULLS LAST, order_id DESC) {_COVER};
CREATE INDEX IF NOT EXISTS orders_phone ON orders (phone, order_id) {_COVER};
CREATE INDEX IF NOT EXISTS orders_phone_desc
    ON orders (phone DESC NULLS LAST, order_id DESC) {_COVER};
CREATE INDEX IF NOT EXISTS orders_email_trgm
    ON orders USING gin (lower(email COLLATE "default") gin_trgm_ops);
CREATE INDEX IF NOT EXISTS orders_phone_trgm ON orders USING gin (phone_digits gin_trgm_ops);
DO $$ BEGIN EXECUTE format($f$
    CREATE OR REPLACE FUNCTION store_trigrams(store VARCHAR, value TEXT) RETURNS TEXT[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $b$ SELECT string_to_array(store || ' ' || nullif(array_to_string(%I.show_trgm(value),
                                  '|' || store || ' '), ''), '|') $b$ $f$,
    (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm'));
END $$;
CREATE INDEX IF NOT EXISTS orders_email_store_trgm
    ON orders USING gin (store_trigrams(store_id, lower(email COLLATE "default")));
-- The Refunds register's (core.db.postgres.register): the refunds by store and time, by time,
-- by amount and by reason, each walked in the screen's order.
CREATE INDEX IF NOT EXISTS order_events_refund_store
    ON order_events (store_id, created_at) INCLUDE (order_id, amount, username, reason_code)
    WHERE kind = 'refund';
CREATE INDEX IF NOT EXISTS order_events_refund_time
    ON order_events (created_at, event_id)
    INCLUDE (order_id, amount, username, reason_code, store_id)
    WHERE kind = 'refund';
CREATE INDEX IF NOT EXISTS order_events_refund_amount ON order_events (amount, event_id)
    WHERE kind = 'refund';
CREATE INDEX IF NOT EXISTS order_events_refund_reason
    ON order_events (({_REFUND_REASON} COLLATE "C"), event_id) WHERE kind = 'refund';
"""


# The tables writers change, in the order their transactions first lock them (an import the
# stores, then the orders; a refund the orders, whose triggers count into ``order_hours``, then
# the items and events): an upgrade locks them in the same order, so it never deadlocks with one.
_WRITTEN_TABLES = ("stores", "orders", "order_hours", "order_items", "order_events")


def create_or_upgrade(cur) -> None:
    """Create what is missing and record the schema's version, once across processes; then merge
    the hourly counts' rows (``summary.COMPACT``).

    A database already at this version (or a newer one) is left as it is: its DDL, even
    ``CREATE INDEX IF NOT EXISTS``, would lock whole tables that refunds and imports are
    writing, and a process opening the database while they run must never stop one of them."""
    if _recorded_version(cur) < SCHEMA_VERSION:
        _create_or_upgrade(cur)
    cur.execute(summary.COMPACT)  # one statement, atomic; writers only ever add rows


def _recorded_version(cur) -> int:
    """The schema version the database records; 0 for a database without one."""
    if cur.execute("SELECT to_regclass('meta') IS NULL").fetchone()[0]:
        return 0
    row = cur.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def _create_or_upgrade(cur) -> None:
    cur.execute("BEGIN")
    try:
        cur.execute("SELECT pg_advisory_xact_lock(?)", [SCHEMA_LOCK])
        if _recorded_version(cur) >= SCHEMA_VERSION:  # another process did it meanwhile
            cur.execute("COMMIT")
            return
        existing = [table for table in _WRITTEN_TABLES
                    if cur.execute("SELECT to_regclass(?) IS NOT NULL", [table]).fetchone()[0]]
        if existing:
            cur.execute(f"LOCK TABLE {', '.join(existing)} IN SHARE ROW EXCLUSIVE MODE")
        cur.execute(TABLES)
        cur.execute(USERS_TABLES)
        if INDEXES.strip():
            cur.execute(INDEXES)
        counted = "order_hours" in existing
        cur.execute(summary.DDL)
        # The orders already there are counted once, by the transaction that creates the
        # triggers (which waited for every writer of the orders to finish).
        if not counted:
            cur.execute(summary.BACKFILL)
        cur.execute(
            "INSERT INTO meta VALUES ('schema_version', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [str(SCHEMA_VERSION)],
        )
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    cur.execute("COMMIT")
