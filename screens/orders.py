"""The Orders page: the filtered, searched, sorted list of orders in scope, 15 a page, and export."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from core.columns import BY_KEY, PAGE_COLUMNS
from core.query import page_count
from core.status import is_partially_refunded
from ui import exporting
from ui.pager import pager, shown_page, shown_rows
from ui.context import (
    OPENED_FROM,
    data_as_of,
    fetch_page,
    fetch_scope_options,
    get_settings,
    refresh_data,
    require_user,
    show_error,
)
from ui.filters import (PAGE, filter_sidebar, load_view, save_view, search_sort_bar, show_notices,
                        shown_value)
from ui.i18n import _, count, current_language, money, ngettext, when

user = require_user()
settings = get_settings()

try:
    options = fetch_scope_options(user.scope)
except Exception as exc:  # noqa: BLE001 - shown to the user by its kind, logged when a bug
    show_error(exc)
    st.stop()

query, page = load_view(options)
filter_sidebar(options, settings.tz, settings.tz_name)

title_col, refresh_col = st.columns([6, 1.2], vertical_alignment="bottom")
title_col.title(_("Orders"))
# A callback runs before the page does: the whole run, sidebar choices included, reads afresh.
refresh_col.button(_("Refresh"), icon=":material/refresh:", width="stretch",
                   help=_("Re-read the database"), on_click=refresh_data)
st.caption(_("Data as of {time} ({zone})").format(time=f"{data_as_of():%H:%M:%S}",
                                                   zone=settings.tz_name))

search_sort_bar()
show_notices()


def _table(result, query, page: int) -> None:
    """The page's 15 rows; a click on one opens its order."""
    # One column per ``core.columns.PAGE_COLUMNS``, headed by its label, in the page's words.
    table = pd.DataFrame(
        [[getattr(row, column.key) for column in PAGE_COLUMNS] for row in result.rows],
        columns=[_(column.label) for column in PAGE_COLUMNS],
    ).astype(object).where(lambda f: f.notna(), "")
    date, order_id, status, amount, refunded, channel = (_(BY_KEY[key].label) for key in (
        "created_at", "order_id", "status", "amount", "refunded_amount", "channel"))
    # Statuses and channels are shown in the user's language (stored and filtered in English).
    table[channel] = [shown_value(row.channel) for row in result.rows]
    # A partial refund leaves the order Completed; say so where the status is read.
    table[status] = [
        _("{status} · partially refunded").format(status=shown_value(row.status))
        if is_partially_refunded(row.status, row.refunded_amount) else shown_value(row.status)
        for row in result.rows
    ]
    for column in (amount, refunded):
        table[column] = table[column].map(money)
    table[refunded] = ["" if not row.refunded_amount else shown
                       for row, shown in zip(result.rows, table[refunded])]
    table[date] = table[date].map(when)
    table[order_id] = table[order_id].astype(str)
    # The table's toolbar shows above its frame on hover: without a gap it covered "Descending".
    st.space("small")
    event = st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=35 * (len(table) + 1) + 3,
        on_select="rerun",
        selection_mode="single-row",
        key="orders.table",
        column_config={
            amount: st.column_config.TextColumn(alignment="right"),
            refunded: st.column_config.TextColumn(alignment="right"),
            # A translated status ("Zrealizowane") is longer than the English words the
            # automatic width was measured on: as wide as its longest text on the page.
            **({status: st.column_config.TextColumn(
                width=min(260, 24 + 7 * max(map(len, [status, *table[status]]))))}
               if current_language() != "en" else {}),
        },
    )
    selected = event.selection.rows if event else []
    if selected:
        st.session_state.pop(OPENED_FROM, None)
        st.switch_page("screens/order.py",
                       query_params={"id": str(result.rows[selected[0]].order_id)})


def _pager(result, page: int, pages: int) -> None:
    first, last = shown_rows(result.total, page)
    pager(PAGE, page, pages, input_key="orders.page_input", caption=(
        # English keeps its one form (the screens read so before); the catalogues have all forms.
        ngettext("{first}–{last} of {total} orders · page {page} of {pages} · captured {amount}",
                 "{first}–{last} of {total} orders · page {page} of {pages} · captured {amount}",
                 result.total).format(first=count(first), last=count(last),
                                      total=count(result.total), page=count(page),
                                      pages=count(pages), amount=money(result.total_amount))))


# A fragment: turning a page, clicking a row or exporting reruns the list alone, not the sidebar
# and the rest of the app (less work for the server and for the browser). A change of filters,
# search or sort reruns the whole page, this list included.
@st.fragment
def order_list() -> None:
    query, page = st.session_state["view.query"], st.session_state[PAGE]
    try:
        result = fetch_page(user.scope, query, page)
    except Exception as exc:  # noqa: BLE001 - shown to the user by its kind, logged when a bug
        show_error(exc)
        return
    page = shown_page(page, result.page)
    save_view(query, page)
    pages = page_count(result.total)
    if result.total == 0:
        st.info(_("No orders match these filters and search.") if query.is_filtered
                else _("There are no orders in your scope yet."))
    else:
        _table(result, query, page)
    _pager(result, page, pages)
    st.divider()
    exporting.export_section(user, query, result.total, result.total_amount, settings,
                             at=datetime.now(settings.tz))


order_list()
