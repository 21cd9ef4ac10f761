"""The admin's Data page, and users-file edits taking effect while the app serves (AppTest)."""
from __future__ import annotations

import time
from dataclasses import replace
from decimal import Decimal

import pytest

from ui.context import get_database
from tests.markdown_text import shown
from tests.pages.conftest import edit_test_users, new_app, sign_in

STORES_CSV = (
    "store_id,store_name,store_address,merchant_store_id,brand,legal_entity,region,zone\n"
    "S90,New Store,Main St 1,M-90,Reserved,Alpha SRL,Cluj,RO\n"
)
ORDERS_HEADER = ("order_id,created_at,merchant_order_id,amount,status,channel,email,phone,"
                 "store_id,salesperson_id,salesperson_name\n")


def test_data_page_is_for_admins_only(writable):
    at = sign_in(new_app(), "viewer")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("screens/data.py")


def test_admin_sees_the_importer(writable):
    at = sign_in(new_app(), "admin")
    at.switch_page("screens/data.py").run()
    assert [t.value for t in at.title] == ["Data"]
    assert [b.label for b in at.button if b.label == "Import"] == ["Import"]
    assert next(b for b in at.button if b.label == "Import").disabled  # nothing chosen yet


def test_a_removed_role_takes_effect_on_the_next_action(writable):
    root, sample = writable
    at = sign_in(new_app(), "viewer")
    with edit_test_users(root) as users:
        users["viewer"] = replace(users["viewer"], legal_entities=(), stores=("S05",))
    at.run()
    expected = sum(1 for o in sample.orders if o["store_id"] == "S05")
    text = " ".join(c.value for c in at.caption)
    assert f"of {expected:,} orders" in text

    with edit_test_users(root) as users:
        del users["viewer"]
    at.run()
    assert not at.dataframe
    assert [i.value for i in at.info] == ["You have been signed out."]
    at.run()  # in the browser, the cookie component's answer makes this rerun
    assert [t.label for t in at.text_input][:2] == ["Username", "Password"]


def open_data_page():
    at = sign_in(new_app(), "admin")
    at.switch_page("screens/data.py").run()
    return at


def uploader(at, label):
    return next(u for u in at.get("file_uploader") if u.label == label)


def test_admin_imports_a_clean_file_and_sees_the_report(writable):
    at = open_data_page()
    uploader(at, "Stores").set_value(("stores.csv", STORES_CSV.encode(), "text/csv"))
    orders = ORDERS_HEADER + ("9001,2026-05-01T10:00:00,WEB-9001,10.50,Completed,online,"
                              "a@b.pl,+48 600 000 001,S90,,\n")
    uploader(at, "Orders").set_value(("orders.csv", orders.encode(), "text/csv"))
    at.run()
    next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Import complete."]
    report = at.get("code")[0].proto.code_text
    assert "stores" in report and "orders" in report and "1 added" in report.replace("  ", " ")
    # The app's store holds the file (one process, one connection): read through it.
    with get_database().cursor() as cur:
        assert cur.execute("SELECT amount FROM orders WHERE order_id = 9001").fetchone()[0] == (
            Decimal("10.50"))


def test_a_bad_row_is_reported_and_nothing_is_written(writable):
    at = open_data_page()
    orders = ORDERS_HEADER + ("9002,2026-05-01T10:00:00,B-1,10.505,Completed,online,,,S01,,\n"
                              "9003,not-a-date,B-2,5.00,Pending,offline,,,S01,,\n")
    uploader(at, "Orders").set_value(("orders.csv", orders.encode(), "text/csv"))
    at.run()
    next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception
    assert shown(at.error[0].value).endswith("; nothing was written.")
    problems = at.dataframe[0].value
    assert set(problems["File"]) == {"orders.csv"}
    assert {"amount", "created_at"} <= set(problems["Column"])
    with get_database().cursor() as cur:
        assert cur.execute("SELECT count(*) FROM orders WHERE order_id > 9000").fetchone()[0] == 0


def test_the_page_states_the_size_limits(writable):
    at = open_data_page()
    text = " ".join(c.value for c in at.caption)
    assert "Spreadsheets: at most 100,000 rows" in text
    assert "files up to 1,024 MB" in text
    # the command line waits for the app on a DuckDB file; on PostgreSQL it runs beside it
    if get_database().backend == "postgresql":
        assert "`python -m core import`, which runs while the desk serves." in text
        assert "stopped" not in text
    else:
        assert "`python -m core import` while the app is stopped." in text


@pytest.mark.parametrize("page_data", ["duckdb"], indirect=True)  # DuckDB's memory limit
def test_a_spreadsheet_dimension_bomb_is_refused_quickly_and_memory_set_back(writable, tmp_path):
    from tests.db.test_import_limits import _order_cells, write_sheet

    bomb = write_sheet(tmp_path / "bomb.xlsx", [
        f'<row r="2">{_order_cells(2)}</row>',
        '<row r="1048576"><c r="A1048576"><v>1</v></c></row>'])
    at = open_data_page()
    with get_database().cursor() as cur:
        limit = cur.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    uploader(at, "Orders").set_value(("bomb.xlsx", bomb.read_bytes(), "application/vnd.ms-excel"))
    at.run()
    started = time.process_time()
    next(b for b in at.button if b.label == "Import").click().run()
    assert time.process_time() - started < 5
    assert not at.exception
    assert shown(at.error[0].value).endswith("; nothing was written.")
    [reason] = at.dataframe[0].value["Reason"]
    assert reason.startswith("has more than 100,000 rows under the header")
    with get_database().cursor() as cur:
        assert cur.execute("SELECT current_setting('memory_limit')").fetchone()[0] == limit
