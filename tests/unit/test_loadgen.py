"""The load generator's own parts: reading ForwardMsgs into what a browser shows, what it sends
back, the counts it checks against, and its statistics. A load test is only as good as these."""
from __future__ import annotations

import random

import duckdb
import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from scripts.loadtest.analyst import Session
from scripts.loadtest.checks import expected_caption
from scripts.loadtest.oracle import (
    CHANNELS,
    STATUSES,
    Oracle,
    UserScope,
    View,
    build_oracle,
    search_kind,
    view_sql,
    views_for,
)
from scripts.loadtest.page import Caption, PageModel, ProtocolError, parse_caption
from scripts.loadtest.refunds import REASON, Ledger, verify
from scripts.loadtest.report import Stats, markdown_table, percentile
from scripts.loadtest.server import ServerProcess

# --- the caption and statistics -------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("1–15 of 12,345 orders · page 1 of 823 · captured 1,234,567.89",
     Caption(1, 15, 12345, 1, 823)),
    ("16–30 of 606 orders · page 2 of 41", Caption(16, 30, 606, 2, 41)),
    ("0–0 of 0 orders · page 1 of 1 · captured 0.00", Caption(0, 0, 0, 1, 1)),
    ("Data as of 12:00:00 (Europe/Warsaw)", None),
    ("", None),
])
def test_caption_is_read_from_the_pager_text(text, expected):
    assert parse_caption(text) == expected


@pytest.mark.parametrize("total, page, expected", [
    (0, 1, Caption(0, 0, 0, 1, 1)),
    (15, 1, Caption(1, 15, 15, 1, 1)),
    (16, 2, Caption(16, 16, 16, 2, 2)),
    (12345, 823, Caption(12331, 12345, 12345, 823, 823)),
])
def test_expected_caption_for_a_count_and_page(total, page, expected):
    assert expected_caption(total, page) == expected


def test_percentiles_interpolate_between_ranks():
    values = [float(v) for v in range(1, 101)]
    random.Random(1).shuffle(values)
    assert percentile(values, 0.5) == pytest.approx(50.5)
    assert percentile(values, 0.95) == pytest.approx(95.05)
    assert percentile([0.2], 0.95) == 0.2
    assert percentile([], 0.5) is None


def test_stats_count_errors_by_kind_and_category():
    stats = Stats()
    stats.record("page turn", 0.1, 0.05)
    stats.record("page turn", 0.3, 0.07)
    stats.error("page turn", "wrong count", "shown 3, expected 4")
    stats.error("page turn", "timeout")
    (row,) = stats.rows()
    assert row["count"] == 3  # two answered, one that never was
    assert row["median_s"] == pytest.approx(0.2)
    assert row["cpu_median_ms"] == pytest.approx(60)
    assert row["errors"] == {"wrong count": 1, "timeout": 1}
    assert stats.error_count() == 2 and stats.error_count("wrong count") == 1
    assert "| page turn | 3 | 0.200 |" in markdown_table(stats.rows())


# --- the independent counts -----------------------------------------------------------------------


@pytest.mark.parametrize("text, kind", [
    ("Anna@WP.pl", ("email", "anna@wp.pl")),
    ("+48 (791) 256-734", ("digits", "48791256734")),
    ("1597001", ("digits", "1597001")),
    ("WEB-2423435", ("text", "WEB-2423435")),
    ("  ", ("", "")),
])
def test_search_kinds_follow_the_specification(text, kind):
    assert search_kind(text) == kind


@pytest.fixture
def tiny_db(tmp_path):
    path = tmp_path / "orders.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE stores (store_id VARCHAR, merchant_store_id VARCHAR, "
                    "store_name VARCHAR, legal_entity VARCHAR)")
        con.execute("CREATE TABLE orders (order_id BIGINT, merchant_order_id VARCHAR, "
                    "status VARCHAR, channel VARCHAR, email VARCHAR, phone VARCHAR, store_id VARCHAR)")
        con.execute("INSERT INTO stores VALUES ('S1', 'M1', 'One', 'LE A'), ('S2', NULL, 'Two', 'LE A'),"
                    " ('S3', 'M3', 'Three', 'LE B')")
        con.execute("""INSERT INTO orders VALUES
            (101, 'WEB-1', 'Completed', 'online', 'Anna.Nowak@WP.PL', '+48 791 256 734', 'S1'),
            (102, 'WEB-2', 'Return', 'online', 'piotr@onet.pl', '0048 606 606 606', 'S2'),
            (103, '555', 'Completed', 'offline', NULL, NULL, 'S3'),
            (555, 'WEB-4', 'Pending', 'online', 'anna.k@example.org', '+7 930 541-01-89', 'S3')""")
    return path


def _count(path, scope, view):
    where, params = scope.sql()
    sql, view_params = view_sql(view)
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM orders o JOIN stores s ON s.store_id = o.store_id "
                           f"WHERE {where} AND {sql}", [*params, *view_params]).fetchone()[0]


ADMIN = UserScope("admin", True)
LE_A = UserScope("le", False, legal_entities=("LE A",))
STORE_3 = UserScope("store", False, stores=("S3",))


@pytest.mark.parametrize("scope, view, expected", [
    (ADMIN, View(), 4),
    (LE_A, View(), 2),
    (STORE_3, View(), 2),
    (UserScope("nobody", False), View(), 0),
    (ADMIN, View(search="ANNA"), 2),  # text: e-mail contains, any case
    (ADMIN, View(search="@wp.pl"), 1),
    (ADMIN, View(search="555"), 2),  # an order ID or a merchant order ID, exactly
    (ADMIN, View(search="606 606"), 1),  # phone digits, spaces ignored
    (ADMIN, View(search="WEB-2"), 1),
    (ADMIN, View(search="WEB"), 0),  # a merchant order ID matches only exactly
    (LE_A, View(search="555"), 0),  # out of scope
    (ADMIN, View(statuses=("Completed",), channels=("offline",)), 1),
    (STORE_3, View(statuses=("Pending", "Cancel")), 1),
])
def test_independent_counts_per_scope_and_view(tiny_db, scope, view, expected):
    assert _count(tiny_db, scope, view) == expected


def test_oracle_covers_every_view_a_session_can_reach(tiny_db):
    scopes = {"le": LE_A, "store": STORE_3}
    oracle = build_oracle(tiny_db, scopes, seed=3, searches_per_kind=1)
    for username in scopes:
        for view in views_for(oracle.searches[username]):
            assert oracle.count(username, view) == _count(tiny_db, scopes[username], view)
    assert oracle.allowed_stores["le"] == {("M1", "One"), ("", "Two")}
    assert set(oracle.order_ids["store"]) == {103, 555}
    # The file is closed again: the server must be able to open it read-write.
    duckdb.connect(str(tiny_db)).close()


# --- ForwardMsgs into a page model, and the BackMsg a browser sends -------------------------------


def _new_session(page_hash="h-orders", pages=(("orders", "h-orders"), ("order", "h-order"))):
    msg = ForwardMsg()
    msg.new_session.page_script_hash = page_hash
    for url, page_hash_ in pages:
        app_page = msg.new_session.app_pages.add()
        app_page.url_pathname, app_page.page_script_hash = url, page_hash_
    return msg


def _delta(path, fill):
    msg = ForwardMsg()
    msg.metadata.delta_path[:] = path
    fill(msg.delta.new_element)
    return msg


def _finished(status=0):
    msg = ForwardMsg()
    msg.script_finished = status
    return msg


def _heading(body):
    def fill(element):
        element.heading.tag, element.heading.body = "h1", body
    return fill


def _caption(body):
    def fill(element):
        element.markdown.body = body
        element.markdown.element_type = 2
    return fill


def _multiselect(widget_id, label, options, default=(), raw=None):
    def fill(element):
        widget = element.multiselect
        widget.id, widget.label = widget_id, label
        widget.options[:] = options
        widget.default[:] = default
        if raw is not None:
            widget.raw_values[:] = raw
            widget.set_value = True
    return fill


def _text_input(widget_id, label, value=None, form_id=""):
    def fill(element):
        widget = element.text_input
        widget.id, widget.label, widget.form_id = widget_id, label, form_id
        if value is not None:
            widget.value, widget.set_value = value, True
    return fill


def _button(widget_id, label):
    def fill(element):
        element.button.id, element.button.label = widget_id, label
    return fill


def _run(model, *messages, status=0):
    model.apply(_new_session())
    for message in messages:
        model.apply(message)
    model.apply(_finished(status))


def test_page_model_reads_title_caption_widgets_and_pages():
    model = PageModel()
    _run(model,
         _delta([0, 0], _heading("Orders")),
         _delta([1, 0], _multiselect("w-status", "Status", ["Pending", "Completed"], default=[1])),
         _delta([0, 1], _caption("1–15 of 40 orders · page 1 of 3 · captured 10.00")),
         _delta([0, 2], _button("w-next", "Next")))
    assert model.title() == "Orders"
    assert model.caption() == Caption(1, 15, 40, 1, 3)
    status = model.widget("multiselect", "Status")
    assert model.value_of(status) == ["Completed"]  # the default, as a browser holds it on mount
    assert model.pages == {"orders": "h-orders", "order": "h-order"}
    assert model.widget("button", "Next").id == "w-next"
    assert model.errors() == []


def test_a_value_the_server_sets_replaces_the_clients():
    model = PageModel()
    _run(model, _delta([0, 0], _text_input("w-search", "Search")))
    model.values["w-search"] = ("string_value", "anna")
    # Not set by the server: the client's value stays.
    _run(model, _delta([0, 0], _text_input("w-search", "Search")))
    assert model.value_of(model.widget("text_input", "Search")) == "anna"
    _run(model, _delta([0, 0], _text_input("w-search", "Search", value="")))
    assert model.value_of(model.widget("text_input", "Search")) == ""
    assert model.set_values == [("Search", "")]


def test_a_finished_run_drops_what_it_did_not_draw_but_a_run_ended_for_a_rerun_does_not():
    model = PageModel()
    _run(model, _delta([0, 0], _heading("Orders")), _delta([0, 1], _text_input("w-a", "A")))
    _run(model, _delta([0, 0], _heading("Orders")), status=2)  # ended early for a rerun
    assert model.widget("text_input", "A") is not None
    _run(model, _delta([0, 0], _heading("Order 7")))
    assert model.widget("text_input", "A") is None
    assert "w-a" not in model.values  # an inactive widget's value is not sent again
    assert model.title() == "Order 7"


def test_errors_shown_are_exceptions_and_error_boxes():
    def exception(element):
        element.exception.type, element.exception.message = "KeyError", "'x'"

    def error_box(element):
        element.alert.body, element.alert.format = "Something went wrong on our side.", 1

    def warning_box(element):
        element.alert.body, element.alert.format = "Page 9 is past the last page.", 2

    model = PageModel()
    _run(model, _delta([0, 0], exception), _delta([0, 1], error_box), _delta([0, 2], warning_box))
    assert model.errors() == ["exception KeyError: 'x'", "error: Something went wrong on our side."]


def test_query_string_the_app_writes_is_sent_back_and_cached_messages_are_resolved():
    model = PageModel()
    info = ForwardMsg()
    info.page_info_changed.query_string = "status=Return&page=2"
    cached = _delta([0, 0], _heading("Orders"))
    cached.hash, cached.metadata.cacheable = "abc", True
    _run(model, info, cached)
    reference = ForwardMsg()
    reference.ref_hash = "abc"
    reference.metadata.delta_path[:] = [0, 0]
    model.elements.clear()
    _run(model, reference)
    assert model.title() == "Orders"
    state = model.client_state()
    assert state.query_string == "status=Return&page=2"
    assert state.page_script_hash == "h-orders"
    unknown = ForwardMsg()
    unknown.ref_hash = "nope"
    with pytest.raises(ProtocolError):
        model.apply(unknown)


def test_every_widget_value_is_sent_with_a_one_shot_trigger():
    model = PageModel()
    _run(model,
         _delta([1, 0], _multiselect("w-status", "Status", ["Pending", "Return"], raw=["Return"])),
         _delta([0, 0], _text_input("w-user", "Username", form_id="Login")),
         _delta([0, 1], _button("w-login", "Login")))
    model.values["w-user"] = ("string_value", "viewer")
    message = BackMsg()
    message.rerun_script.CopyFrom(model.client_state(triggers={"w-login": ("trigger_value", True)}))
    sent = {w.id: w for w in BackMsg.FromString(message.SerializeToString())
            .rerun_script.widget_states.widgets}
    assert list(sent["w-status"].string_array_value.data) == ["Return"]
    assert sent["w-user"].string_value == "viewer"
    assert sent["w-login"].trigger_value is True
    again = {w.id for w in model.client_state().widget_states.widgets}
    assert "w-login" not in again and {"w-status", "w-user"} <= again


# --- the checks a session makes on the Orders page ------------------------------------------------


def _arrow_table(rows):
    import pyarrow as pa

    table = pa.table({"Order ID": [r[0] for r in rows], "Store ID": [r[1] for r in rows],
                      "Store name": [r[2] for r in rows]})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    data = sink.getvalue().to_pybytes()

    def fill(element):
        element.dataframe.id = "w-table"
        element.dataframe.arrow_data.data = data
    return fill


def _orders_session(caption, rows, status_raw=()):
    oracle = Oracle(counts={("viewer", View()): 40},
                       allowed_stores={"viewer": {("M1", "One"), ("", "Two")}})
    stats = Stats()
    session = Session(0, "viewer", "http://127.0.0.1:1", oracle, stats, ServerProcess(None),
                         random.Random(1), 5, False)

    def sort_by(element):
        element.selectbox.id, element.selectbox.label = "w-sort", "Sort by"
        element.selectbox.options[:] = ["Order date", "Order ID"]

    def descending(element):
        element.checkbox.id, element.checkbox.label, element.checkbox.default = "w-desc", "Descending", True

    def page_box(element):
        element.number_input.id, element.number_input.label = "w-page", "Page"
        element.number_input.value, element.number_input.set_value = 1, True

    _run(session.model,
         _delta([0, 0], _heading("Orders")),
         _delta([1, 0], _multiselect("w-status", "Status", list(STATUSES), raw=list(status_raw))),
         _delta([1, 1], _multiselect("w-channel", "Channel", list(CHANNELS))),
         _delta([0, 1], _text_input("w-search", "Search")),
         _delta([0, 2], sort_by), _delta([0, 3], descending),
         _delta([0, 4], _arrow_table(rows)),
         _delta([0, 5], page_box),
         _delta([0, 6], _caption(caption)))
    session.checks.orders("page turn")
    return stats


def test_a_page_as_expected_passes_every_check():
    stats = _orders_session("1–15 of 40 orders · page 1 of 3 · captured 1.00",
                            [(1, "M1", "One"), (2, None, "Two")])
    assert stats.examples == []


def test_a_wrong_count_is_an_error():
    stats = _orders_session("1–15 of 41 orders · page 1 of 3", [(1, "M1", "One")])
    assert stats.error_count("wrong count") == 1


def test_a_row_of_a_store_outside_the_scope_is_an_error():
    stats = _orders_session("1–15 of 40 orders · page 1 of 3", [(1, "M1", "One"), (2, "M3", "Three")])
    assert stats.error_count("row out of scope") == 1


def test_a_widget_value_the_session_did_not_set_is_a_lost_value():
    stats = _orders_session("1–15 of 40 orders · page 1 of 3", [(1, "M1", "One")],
                            status_raw=["Return"])
    assert stats.error_count("lost widget value") == 1


def test_a_wrong_page_number_is_an_error():
    stats = _orders_session("16–30 of 40 orders · page 2 of 3", [(1, "M1", "One")])
    assert stats.error_count("wrong page number") == 1


def _refund_db(path, events, refunded="0.00"):
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE orders (order_id BIGINT, amount DECIMAL(18,2), "
                    "refunded_amount DECIMAL(18,2))")
        con.execute("INSERT INTO orders VALUES (1, 10.00, ?), (2, 5.00, 0)", [refunded])
        con.execute("CREATE TABLE order_events (event_id BIGINT, order_id BIGINT, kind VARCHAR, "
                    "amount DECIMAL(18,2), reason VARCHAR)")
        for event in events:
            con.execute("INSERT INTO order_events VALUES (?, ?, ?, ?, ?)", event)
    return path


@pytest.mark.parametrize("events, confirmed, refunded, problem", [
    ([(7, 1, "refund", "0.01", REASON)], {1: [7]}, "0.01", None),
    ([], {1: [7]}, "0.00", "R-7 of order 1 confirmed but not stored"),
    ([(7, 1, "refund", "0.01", REASON), (8, 1, "refund", "0.01", REASON)], {1: [7]}, "0.02",
     "R-8 stored but never confirmed"),
    ([(7, 1, "refund", "0.01", REASON)], {1: [7, 7]}, "0.01", "R-7 confirmed 2 times"),
    ([(7, 2, "refund", "0.01", REASON)], {1: [7]}, "0.00", "stored as (2,"),
    ([(7, 1, "refund", "0.01", REASON)], {1: [7]}, "10.01", "1 orders refunded beyond"),
    ([(7, 1, "refund", "0.01", "another reason")], {}, "0.01", None),
])
def test_the_refund_check_finds_every_difference(tmp_path, events, confirmed, refunded, problem):
    ledger = Ledger()
    for order_id, ids in confirmed.items():
        for event_id in ids:
            ledger.add(order_id, event_id)
    problems = verify(_refund_db(tmp_path / "r.duckdb", events, refunded), ledger)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


def test_an_address_the_session_goes_to_is_kept_for_the_next_runs():
    model = PageModel()
    model.client_state(query_string="id=1600001", page_script_hash="order-hash")
    later = model.client_state()
    assert (later.query_string, later.page_script_hash) == ("id=1600001", "order-hash")


def test_a_postgresql_database_is_loaded_with_the_counts_of_its_duckdb_source(tmp_path, capsys):
    from scripts.loadtest.cli import parse_args

    url = "postgresql://orderdesk:pw@127.0.0.1:5432/orders"
    args = parse_args(["--port", "8501", "--db", url, "--oracle-db", str(tmp_path / "o.duckdb")])
    assert (args.db, args.oracle_db) == (url, tmp_path / "o.duckdb")
    for argv, message in (
            (["--port", "8501", "--db", url], "needs --oracle-db"),
            (["--serve", "--db", url, "--oracle-db", "o.duckdb", "--refunds"],
             "--refunds needs a DuckDB --db")):
        with pytest.raises(SystemExit):
            parse_args(argv)
        assert message in capsys.readouterr().err
    args = parse_args(["--port", "8501", "--db", str(tmp_path / "o.duckdb")])
    assert args.db == args.oracle_db == tmp_path / "o.duckdb"
