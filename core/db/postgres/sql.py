"""The few conditions of the shared reads that PostgreSQL spells (or plans) differently from
DuckDB, as SQL text (no driver here: ``core.db.filters`` imports this)."""
from __future__ import annotations

# The sort columns (``core.columns``) that are NOT NULL in the schema.
NEVER_EMPTY = frozenset({"created_at", "order_id", "status", "amount", "refunded_amount",
                         "channel", "store_name", "legal_entity", "region", "zone"})

# A bound beyond Python's datetime (the day after 31.12.9999; 01.01.0001 east of Greenwich), given
# in microseconds since 1970: such bounds are whole seconds, which the division keeps exact.
TIMESTAMP_FROM_US = "(to_timestamp(?::BIGINT / 1000000.0) AT TIME ZONE 'UTC')"

# The e-mail lower-cased as DuckDB's ``lower`` does, every letter (the column compares by bytes,
# ``COLLATE "C"``, under which ``lower`` changes only A-Z); the trigram index is on the same.
LOWER_EMAIL = 'lower(o.email COLLATE "default")'


def contains(text_sql: str, value: str) -> tuple[str, str]:
    """``text_sql`` contains ``value``, as SQL and its parameter: ``LIKE`` is what the trigram
    indexes (``core.db.postgres.schema.INDEXES``) answer; the value is matched literally (its
    wildcards escaped)."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{text_sql} LIKE ?", f"%{escaped}%"


def store_ids_sql(store_ids: tuple[str, ...]) -> tuple[str, list]:
    """``o.store_id`` among the given stores: a plain list, which the planner turns into an
    index condition (``= ANY``) on the indexes that lead with the store."""
    return f"o.store_id IN ({', '.join('?' * len(store_ids))})", list(store_ids)
