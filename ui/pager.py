"""The pager under a list of 15 rows (the Orders list, the Refunds register): "Previous", the
"Page" box, "Next" and the caption the page writes, with the page kept in one session key."""
from __future__ import annotations

import streamlit as st

from core.query import PAGE_SIZE
from ui.i18n import _, count


def shown_page(asked: int, shown: int) -> int:
    """The page a list shows: the one asked for, or the last when it asked past the end (and
    then says so)."""
    if shown != asked and asked > 1:
        st.info(_("Page {page} is past the last page; showing page {shown}.").format(
            page=count(asked), shown=count(shown)))
    return shown


def shown_rows(total: int, page: int) -> tuple[int, int]:
    """The first and last row numbers page ``page`` shows of ``total`` (0, 0 when empty)."""
    return ((page - 1) * PAGE_SIZE + 1 if total else 0), min(page * PAGE_SIZE, total)


def _go_to(page_key: str, target: int, pages: int) -> None:
    st.session_state[page_key] = min(max(1, target), pages)


def _on_page_input(page_key: str, input_key: str, pages: int) -> None:
    _go_to(page_key, int(st.session_state[input_key]), pages)


def pager(page_key: str, page: int, pages: int, caption: str, *, input_key: str,
          button_keys: tuple[str, str] | tuple[None, None] = (None, None)) -> None:
    """The pager of the list whose page is ``st.session_state[page_key]``."""
    prev_col, page_col, next_col, caption_col = st.columns(
        [1, 1.1, 1, 5], vertical_alignment="bottom")
    prev_col.button(_("Previous"), on_click=_go_to, args=(page_key, page - 1, pages),
                    disabled=page <= 1, width="stretch", key=button_keys[0])
    st.session_state[input_key] = page
    page_col.number_input(_("Page"), min_value=1, max_value=pages, step=1, key=input_key,
                          on_change=_on_page_input, args=(page_key, input_key, pages))
    next_col.button(_("Next"), on_click=_go_to, args=(page_key, page + 1, pages),
                    disabled=page >= pages, width="stretch", key=button_keys[1])
    caption_col.caption(caption)
