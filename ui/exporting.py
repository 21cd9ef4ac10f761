"""The "Export to xlsx" section: builds the file on request, with progress, for this user only.

The file is built only when the signed-in user asks, from the same query object and scope as the
page, and is handed to one download button; nothing is prepared for a user who may not see it.
A prepared file (up to about 100 MB in the session) is kept only while the view it was built
for is on the screen: it is dropped on the first run that shows another scope or query.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import streamlit as st

from core.db import refunds as register
from core.export import ExportInfo, check_export_size, write_orders_xlsx, write_refunds_xlsx
from core.i18n import LANGUAGES, translator
from core.query import OrderQuery
from core.settings import Settings
from core.users import User
from ui.context import get_database, show_error
from ui.i18n import _, count, current_language
from ui.text import as_text

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PREPARED = "orders.export"


@dataclass(frozen=True)
class ExportKind:
    """What one page exports: its rows' noun, how they are counted and read, and the writer."""

    noun: str  # "orders", "refunds": the file's name and the messages
    count: Callable  # (database, scope, query, tz) -> (rows, total amount)
    rows: Callable  # (database, scope, query, tz) -> the rows in the screen's order
    write: Callable  # core.export's writer for these rows


ORDERS = ExportKind("orders", lambda db, *args: db.count_orders(*args),
                    lambda db, *args: db.iter_export_rows(*args), write_orders_xlsx)
REFUNDS = ExportKind("refunds", register.count_refunds, register.iter_refund_rows,
                     write_refunds_xlsx)


def drop_stale_export(user: User, query) -> str:
    """Forget a prepared file built for another scope or query than this view's (its download
    would no longer match the screen); return this view's key. Every page that shows the view
    calls it, so a file is not kept while the view changes elsewhere."""
    view_key = repr((user.scope.key(), query))
    prepared = st.session_state.get(PREPARED)
    if prepared is not None and prepared[0] != view_key:
        del st.session_state[PREPARED]
    return view_key


def export_section(user: User, query: OrderQuery, total: int, total_amount: Decimal,
                   settings: Settings, at: datetime, kind: ExportKind = ORDERS) -> None:
    view_key = drop_stale_export(user, query)
    noun = kind.noun
    lang = current_language()
    # DESIGN §6's headers stay English by default: other systems read them.
    headers = lang != "en" and st.checkbox(
        _("Column headers in {language}").format(language=LANGUAGES[lang]),
        key=f"export.headers.{noun}")
    build_col, download_col, note_col = st.columns([1.4, 1.4, 4], vertical_alignment="center")
    if build_col.button(_("Export to xlsx"), icon=":material/table_view:", disabled=total == 0,
                        help=_("Every order that matches the filters and search, in this order")
                        if noun == "orders" else
                        _("Every refund that matches the filters and search, in this order")):
        st.session_state.pop(PREPARED, None)
        try:
            content = _build(user, query, settings, at, kind, bool(headers))
        except Exception as exc:  # noqa: BLE001 - shown by its kind, logged when a bug
            show_error(exc)
            return
        file_name = f"{noun}-{at:%Y%m%d-%H%M}.xlsx"
        st.session_state[PREPARED] = (view_key, content, file_name, total)
    prepared = st.session_state.get(PREPARED)
    if prepared and prepared[0] == view_key:
        _key, content, file_name, rows = prepared
        download_col.download_button(
            _("Download xlsx"), data=content, file_name=file_name, mime=XLSX_MIME,
            icon=":material/download:", type="primary", on_click="ignore",
        )
        note_col.caption((_("{file}: {rows} orders, ready to download.") if noun == "orders"
                          else _("{file}: {rows} refunds, ready to download.")).format(
            file=as_text(file_name), rows=count(rows)))
    else:
        note_col.caption((_("Exports all {total} orders that match, in the current sort order.")
                          if noun == "orders" else
                          _("Exports all {total} refunds that match, in the current sort "
                            "order.")).format(total=count(total)))


def _build(user: User, query, settings: Settings, at: datetime, kind: ExportKind,
           headers: bool = False) -> bytes:
    # Counted afresh: the page's figures may come from a cache older than the last refund.
    database = get_database()
    total, total_amount = kind.count(database, user.scope, query, settings.tz)
    check_export_size(total, kind.noun)
    words = translator(current_language())
    info = ExportInfo(
        exported_at=at,
        exported_by=f"{user.name} ({user.username})",
        filters=query.describe_filters(words),
        search=query.describe_search(words),
        sort=query.describe_sort(words),
        time_zone=settings.tz_name,
        row_count=total,
        total_captured_amount=total_amount,
        lang=current_language(),
        translated_headers=headers,
    )
    bar = st.progress(0.0, text=_("Preparing the export…"))
    done_text = (_("Exported {done} of {total} orders") if kind.noun == "orders"
                 else _("Exported {done} of {total} refunds"))

    def progress(done: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0),
                     text=done_text.format(done=count(done), total=count(total)))

    buffer = io.BytesIO()
    rows = kind.rows(database, user.scope, query, settings.tz)
    kind.write(buffer, rows, info, progress=progress)
    bar.empty()
    return buffer.getvalue()
