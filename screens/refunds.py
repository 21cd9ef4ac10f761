"""The Refunds page: every refund of the orders in scope, newest first, 15 a page, and export
(docs/design.md §9). The sidebar's filters are the shared view's, applied to the refund's order;
its period filters the refund's date. Reason, Refunded by, the search and the sort are this
page's own (``ui.refund_view``)."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from core.i18n import N_
from core.query import page_count
from core.refunds import COLUMNS
from ui import exporting
from ui.pager import pager, shown_page, shown_rows
from ui.context import (
    OPENED_FROM,
    data_as_of,
    fetch_scope_options,
    get_settings,
    refresh_data,
    require_user,
    show_error,
)
from ui.filters import filter_sidebar, load_view, show_notices, shown_value
from ui.i18n import _, count, money as format_amount, ngettext, when
from ui.refund_view import (
    PAGE,
    VIEW,
    arrived_here,
    clear_own_filters,
    fetch_refund_page,
    fetch_refunders,
    load_refund_view,
    own_filters,
    save_refund_view,
    search_sort_bar,
)

user = require_user()
settings = get_settings()

try:
    options = fetch_scope_options(user.scope)
    refunders = fetch_refunders(user.scope)
except Exception as exc:  # noqa: BLE001 - shown to the user by its kind, logged when a bug
    show_error(exc)
    st.stop()

arrived = arrived_here()
view, _page = load_view(options)
query, page = load_refund_view(view, refunders, arrived)
filter_sidebar(options, settings.tz, settings.tz_name, extra=own_filters(refunders),
               extra_filtered=bool(query.reasons or query.refunded_by or query.search),
               on_clear=clear_own_filters,
               period_help=N_("Inclusive dates of the refund, in the display time zone."))
LABELS = {column.key: _(column.label) for column in COLUMNS}

title_col, refresh_col = st.columns([6, 1.2], vertical_alignment="bottom")
title_col.title(_("Refunds"))
if refresh_col.button(_("Refresh"), icon=":material/refresh:", width="stretch",
                      help=_("Re-read the database"), key="refunds.refresh"):
    refresh_data()
st.caption(_("Data as of {time} ({zone}) · The period filters the refund's date; the other "
             "filters apply to the refunded order.").format(time=f"{data_as_of():%H:%M:%S}",
                                                            zone=settings.tz_name))

search_sort_bar()
show_notices()


def _table(result) -> None:
    """The page's rows; a click on one opens its order."""
    table = pd.DataFrame(
        [[getattr(row, column.key) for column in COLUMNS] for row in result.rows],
        columns=[LABELS[column.key] for column in COLUMNS],
    ).astype(object).where(lambda f: f.notna(), "")
    table[LABELS["refunded_at"]] = table[LABELS["refunded_at"]].map(
        lambda m: when(m, seconds=True))
    table[LABELS["reason"]] = [_(row.reason) if row.reason else "" for row in result.rows]
    table[LABELS["status"]] = [shown_value(row.status) for row in result.rows]
    table[LABELS["amount"]] = [format_amount(row.amount) for row in result.rows]
    table[LABELS["order_id"]] = table[LABELS["order_id"]].astype(str)
    st.space("small")
    event = st.dataframe(
        table, hide_index=True, width="stretch", height=35 * (len(table) + 1) + 3,
        on_select="rerun", selection_mode="single-row", key="refunds.table",
        column_config={LABELS["amount"]: st.column_config.TextColumn(alignment="right")},
    )
    selected = event.selection.rows if event else []
    if selected:
        st.session_state[OPENED_FROM] = "refunds"
        st.switch_page("screens/order.py",
                       query_params={"id": str(result.rows[selected[0]].order_id)})


def _pager(result, page: int, pages: int) -> None:
    first, last = shown_rows(result.total, page)
    pager(PAGE, page, pages, input_key="refunds.page_input",
          button_keys=("refunds.previous", "refunds.next"), caption=(
              # English keeps its one form (as the Orders list); the catalogues have all forms.
              ngettext("{first}–{last} of {total} refunds · page {page} of {pages} · refunded "
                       "{amount}",
                       "{first}–{last} of {total} refunds · page {page} of {pages} · refunded "
                       "{amount}",
                       result.total).format(first=count(first), last=count(last),
                                            total=count(result.total), page=count(page),
                                            pages=count(pages),
                                            amount=format_amount(result.total_amount))))


# A fragment, as the Orders list: a page turn, a row click or an export reruns the list alone.
@st.fragment
def refund_list() -> None:
    query, page = st.session_state[VIEW], st.session_state[PAGE]
    try:
        result = fetch_refund_page(user.scope, query, page)
    except Exception as exc:  # noqa: BLE001
        show_error(exc)
        return
    page = shown_page(page, result.page)
    save_refund_view(query, page)
    pages = page_count(result.total)
    if result.total == 0:
        st.info(_("No refunds match these filters and search.") if query.is_filtered
                else _("There are no refunds in your scope yet."))
    else:
        _table(result)
    _pager(result, page, pages)
    st.divider()
    exporting.export_section(user, query, result.total, result.total_amount, settings,
                             at=datetime.now(settings.tz), kind=exporting.REFUNDS)


refund_list()
