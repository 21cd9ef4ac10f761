"""The export of a real database, read back with openpyxl, equals the query; and a round trip
demo → import files → import → export keeps every order as it was."""
from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl

from core.demo import build_demo
from core.export import EXPORT_COLUMNS, ExportInfo, sanitize_text, write_orders_xlsx
from core.importer import import_files
from core.query import OrderQuery
from core.db import Database
from core.users import Scope

TZ = ZoneInfo("Europe/Warsaw")


def export_bytes(database: Database, scope: Scope, query: OrderQuery) -> tuple[bytes, list[tuple]]:
    rows = list(database.iter_export_rows(scope, query, TZ))
    total, amount = database.count_orders(scope, query, TZ)
    info = ExportInfo(datetime(2026, 6, 1, 12, tzinfo=TZ), "Test (test)", query.describe_filters(),
                      query.describe_search(), query.describe_sort(), TZ.key, total, amount)
    buffer = io.BytesIO()
    write_orders_xlsx(buffer, iter(rows), info)
    return buffer.getvalue(), rows


def sheet_rows(data: bytes) -> tuple[list[tuple], dict]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    orders = list(book["Orders"].values)
    assert list(orders[0]) == list(EXPORT_COLUMNS)
    info = {label: value for label, value in list(book["Export info"].values)[1:]}
    return orders[1:], info


def as_cells(row: tuple) -> tuple:
    """What a query row looks like once written: text sanitised, empty text as None."""
    cells = []
    for index, value in enumerate(row):
        if isinstance(value, str):
            value = sanitize_text(value, phone=EXPORT_COLUMNS[index] == "Customer phone") or None
        cells.append(value)
    return tuple(cells)


def normalise(cells: tuple) -> tuple:
    day, order_id, *rest = cells
    amount = rest[1]
    return (day.date() if isinstance(day, datetime) else day, int(order_id), rest[0],
            Decimal(str(amount)).quantize(Decimal("0.01")), *rest[2:])


def test_a_scoped_sorted_export_reads_back_as_the_query(sample_db):
    database, sample = sample_db
    scope = Scope(False, frozenset({"Beta Sp. z o.o."}), frozenset({"S01"}))
    query = OrderQuery(statuses=("Completed", "Return"), sort="Captured amount", descending=False)
    data, rows = export_bytes(database, scope, query)
    written, info = sheet_rows(data)
    assert len(written) == len(rows) == database.count_orders(scope, query, TZ)[0] > 15
    assert [normalise(c) for c in written] == [normalise(as_cells(r)) for r in rows]
    assert info["Rows"] == len(rows)
    assert Decimal(str(info["Total captured amount"])).quantize(Decimal("0.01")) == sum(
        r[3] for r in rows)
    assert info["Filters"] == "Status: Completed, Return"
    # Nothing outside the scope, and the screen's order.
    assert [r[1] for r in rows] == [
        r.order_id for page in range(1, 100)
        for r in database.fetch_page(scope, query, TZ, page).rows
        if page <= -(-len(rows) // 15)
    ]


def test_demo_to_files_to_import_to_export_keeps_every_order(tmp_path):
    with Database(tmp_path / "demo.duckdb") as demo:
        build_demo(demo, orders=1_500, today=date(2026, 6, 30))
        with demo.cursor() as cur:
            cur.execute(
                f"COPY (SELECT store_id, store_name, store_address, merchant_store_id, brand, "
                f"legal_entity, region, zone FROM stores) TO '{tmp_path / 'stores.csv'}' (HEADER)")
            cur.execute(
                f"COPY (SELECT order_id, strftime(created_at, '%Y-%m-%dT%H:%M:%S') AS created_at, "
                f"merchant_order_id, amount, status, channel, email, phone, store_id, "
                f"salesperson_id, salesperson_name, refunded_amount FROM orders) "
                f"TO '{tmp_path / 'orders.parquet'}' (FORMAT parquet)")
            cur.execute(
                f"COPY (SELECT order_id, line_no, name, quantity, unit_price FROM order_items) "
                f"TO '{tmp_path / 'items.csv'}' (HEADER)")
        demo_export, demo_rows = export_bytes(demo, Scope.everything(), OrderQuery())

    with Database(tmp_path / "imported.duckdb") as imported:
        report = import_files(imported, stores=tmp_path / "stores.csv",
                              orders=tmp_path / "orders.parquet", items=tmp_path / "items.csv")
        assert report.added["orders"] == len(demo_rows) == 1_500
        imported_export, imported_rows = export_bytes(imported, Scope.everything(), OrderQuery())

    assert imported_rows == demo_rows
    assert sheet_rows(imported_export)[0] == sheet_rows(demo_export)[0]


def test_every_amount_a_database_holds_reads_back_exactly(tmp_path, monkeypatch):
    """Up to MAX_AMOUNT a number cell, above it (an old database's DECIMAL(18,2) allows 10^16)
    exact text: either way the cell reads back as the stored Decimal, and so does the total."""
    from core.db import schema
    from core.money import MAX_AMOUNT

    # A database created before amounts were capped: its orders table has no upper bound.
    uncapped = schema.DDL.replace(f" AND amount <= {MAX_AMOUNT}", "")
    assert uncapped != schema.DDL
    monkeypatch.setattr("core.db.connection.DDL", uncapped)

    amounts = ["0.01", "0.10", "0.29", "1.15", "2.67", "999999999999.99", "9007199254740.99",
               "9999999999999.98", str(MAX_AMOUNT), "10000000000000.01", "12345678901234.56",
               "99999999999999.99", "9999999999999999.99"]
    with Database(tmp_path / "amounts.duckdb") as database:
        with database.transaction() as cur:
            cur.execute("INSERT INTO stores VALUES ('S01', 'Store', NULL, NULL, NULL, "
                        "'Alpha SRL', 'Cluj', 'RO')")
            for order_id, amount in enumerate(amounts, start=1):
                cur.execute(
                    "INSERT INTO orders (order_id, created_at, amount, status, channel, store_id)"
                    " VALUES (?, TIMESTAMP '2026-05-01 10:00:00', CAST(? AS DECIMAL(18,2)), "
                    "'Completed', 'online', 'S01')", [order_id, amount])
        with database.cursor() as cur:
            stored = dict(cur.execute("SELECT order_id, amount FROM orders").fetchall())
        query = OrderQuery(sort="Order ID", descending=False)
        data, _rows = export_bytes(database, Scope.everything(), query)
    written, info = sheet_rows(data)
    for row in written:
        cell = row[3]
        assert isinstance(cell, float) == (stored[row[1]] <= MAX_AMOUNT)
        assert Decimal(str(cell)) == stored[row[1]], row[1]
    assert Decimal(str(info["Total captured amount"])) == sum(stored.values())
    assert info["Amounts as text"].startswith("6 amounts and the total above 999,999,999,999.99")
