"""The few conditions of the shared reads that PostgreSQL spells (or plans) differently from
DuckDB, as SQL text (no driver here: ``core.db.filters`` imports this)."""
from __future__ import annotations

import re

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


# Each order's e-mail trigrams prefixed by its store (``"S0012 mar"``), as the GIN index
# ``orders_email_store_trgm`` holds them (``core.db.postgres.schema.INDEXES``).
STORE_TRIGRAMS = f"store_trigrams(o.store_id, {LOWER_EMAIL})"
# Up to this many stores a search of e-mails asks the store trigrams, one arm per store (each
# arm costs planning: 4.5 ms for 50).
STORE_TRIGRAM_STORES = 100


def email_in_stores(store_ids: tuple[str, ...] | None, value: str) -> tuple[str, list] | None:
    """A condition that every order of these stores whose lower-cased e-mail contains ``value``
    meets, answered by the store trigram index: a few small lists per store, where the trigram
    index of the e-mail alone finds every store's matches (docs/stack-facts.md, PostgreSQL).
    None when it cannot help: every store, too many, or no trigram sure to be in a match.

    The trigrams asked are those inside the value's runs of ASCII letters and digits: any text
    containing the value contains each run within one of its words (pg_trgm's words are runs of
    letters and digits), so its trigrams hold them. Only an addition to the search's own
    condition, which still decides: extra candidates are tested, none can be lost."""
    if store_ids is None or not 0 < len(store_ids) <= STORE_TRIGRAM_STORES:
        return None
    runs = re.findall(r"[a-z0-9]+", value)
    grams = sorted({run[i:i + 3] for run in runs for i in range(len(run) - 2)})
    if not grams:
        return None
    arm = f"{STORE_TRIGRAMS} @> ?::TEXT[]"
    return ("(" + " OR ".join([arm] * len(store_ids)) + ")",
            [[f"{store} {gram}" for gram in grams] for store in store_ids])
