"""The order list's columns, named once: each column's key, its display label and its table.

A column's ``key`` is the field of ``core.db.OrderRow`` and what the database code sorts by; its
``label`` is what the Orders table, the sort box and the export's header show, and the ``sort=``
value of a URL (labels were the URL's vocabulary before keys existed, so links keep working);
its ``table`` and ``name`` say where it is stored (``core.db.filters.column_sql`` writes them as
SQL). The export's 15 columns are a selection of
the same columns (docs/design.md §6), so the page, the sort and the export cannot drift apart.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.i18n import N_


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    table: str  # "o" (orders) or "s" (stores)
    name: str  # the column in that table
    # The column (of the same table) holding an integer key of the text's first bytes that ranks
    # it (``core.db.schema.sort_key``).
    sort_key: str | None = None
    few_values: bool = False  # a page is found from the count of orders per value
    # Orders lie on disk in time order, and so do these values: ranking by them prunes by itself.
    time_ordered: bool = False

    @property
    def in_stores(self) -> bool:
        """Whether the value is the order's store's (sorting by it needs the stores table)."""
        return self.table == "s"


_ALL = (
    Column("created_at", N_("Order date"), "o", "created_at", time_ordered=True),
    Column("order_id", N_("Order ID"), "o", "order_id", time_ordered=True),
    Column("merchant_order_id", N_("Offline Barcode / Online order ID"), "o", "merchant_order_id",
           time_ordered=True),
    Column("status", N_("Status"), "o", "status", few_values=True),
    Column("amount", N_("Captured amount"), "o", "amount"),
    Column("refunded_amount", N_("Refunded amount"), "o", "refunded_amount"),
    Column("channel", N_("Customer registration kind"), "o", "channel", few_values=True),
    Column("email", N_("Customer email"), "o", "email", sort_key="email_sort"),
    Column("phone", N_("Customer phone"), "o", "phone", sort_key="phone_sort"),
    Column("store_name", N_("Store name"), "s", "store_name", few_values=True),
    Column("merchant_store_id", N_("Store ID"), "s", "merchant_store_id", few_values=True),
    Column("region", N_("Region"), "s", "region", few_values=True),
    Column("legal_entity", N_("Legal entity"), "s", "legal_entity", few_values=True),
    Column("zone", N_("Zone"), "s", "zone", few_values=True),
    # In the export and the order's page only.
    Column("store_address", N_("Store address"), "s", "store_address"),
    Column("brand", N_("Merchant brand"), "s", "brand"),
    Column("salesperson_id", N_("Sales person ID"), "o", "salesperson_id"),
    Column("salesperson_name", N_("Sales person name"), "o", "salesperson_name"),
)
BY_KEY: dict[str, Column] = {column.key: column for column in _ALL}

# The Orders table's columns, in the order shown; every one can be sorted by.
PAGE_COLUMNS: tuple[Column, ...] = tuple(BY_KEY[key] for key in (
    "created_at", "order_id", "merchant_order_id", "status", "amount", "refunded_amount",
    "channel", "email", "phone", "store_name", "merchant_store_id", "region", "legal_entity",
    "zone",
))
BY_LABEL: dict[str, Column] = {column.label: column for column in PAGE_COLUMNS}
DEFAULT_SORT = BY_KEY["created_at"]

# The export's columns, in the file's order (docs/design.md §6); the header is each one's label.
EXPORT_COLUMNS: tuple[Column, ...] = tuple(BY_KEY[key] for key in (
    "created_at", "order_id", "merchant_order_id", "amount", "status", "email", "phone", "zone",
    "store_name", "merchant_store_id", "store_address", "brand", "salesperson_id",
    "salesperson_name", "channel",
))
EXPORT_KEYS: tuple[str, ...] = tuple(column.key for column in EXPORT_COLUMNS)

# A store's columns the order list and the export read from the small stores table.
STORE_KEYS: tuple[str, ...] = tuple(column.key for column in _ALL if column.in_stores)

