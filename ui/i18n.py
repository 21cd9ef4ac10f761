"""The signed-in user's language on screen: ``_("…")``, ``ngettext`` and the local formats.

The language of a run comes from one place, ``st.session_state[LANGUAGE]``: set from the user's
record when they sign in (``adopt_language``), changed by the sidebar's "Language" box (which
also saves it to the user's record, so the next sign-in keeps it). Signed out, it is English.
Core code never reads it: pages pass ``current_language()`` where core writes words.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import streamlit as st

from core import i18n
from core.i18n import LANGUAGES, normal_language

LANGUAGE = "app.language"  # the language of this session's runs
LANGUAGE_OF = "app.language_of"  # whose record it was taken from (another sign-in: taken again)
CHOICE = "app.language_choice"  # the sidebar's Language box


def current_language() -> str:
    return normal_language(st.session_state.get(LANGUAGE))


def browser_language() -> str:
    """The language of the visitor's browser when orderdesk speaks it (``pl-PL`` → ``pl``), else
    English: the sign-in form's, before anybody is known."""
    locale = getattr(st.context, "locale", None) or ""
    return normal_language(locale.split("-")[0].split("_")[0].lower())


def _(message: str) -> str:
    """``message`` in the session's language."""
    return i18n.translator(current_language())(message)


def words() -> i18n.Translations:
    """The session's language as a callable bound to it now: a widget's ``format_func`` (called
    again outside the run, where the session's state is not at hand)."""
    return i18n.translator(current_language())


def pgettext(context: str, message: str) -> str:
    return i18n.translator(current_language()).pgettext(context, message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return i18n.translator(current_language()).ngettext(singular, plural, count)


def adopt_language(user) -> None:
    """Take the signed-in user's language from their record, once per sign-in."""
    if st.session_state.get(LANGUAGE_OF) != user.username:
        st.session_state[LANGUAGE] = normal_language(user.language)
        st.session_state[LANGUAGE_OF] = user.username
        st.session_state.pop(CHOICE, None)  # the box shows the record's language


def choice_key() -> str:
    """The sidebar's Language box's key, its value set from the session's language when the
    box has none (a new sign-in, or a run that did not draw it)."""
    if CHOICE not in st.session_state:
        st.session_state[CHOICE] = current_language()
    return CHOICE


def forget_language() -> None:
    """Signed out: the next user of this browser starts from their own record."""
    st.session_state.pop(LANGUAGE, None)
    st.session_state.pop(LANGUAGE_OF, None)


def language_names() -> dict[str, str]:
    """Each language named in itself: English, Polski, Română, Русский."""
    return dict(LANGUAGES)


def money(amount: Decimal | None) -> str:
    return i18n.format_money(amount, current_language())


def count(number: int | None) -> str:
    return i18n.format_count(number, current_language())


def day(value: date | None) -> str:
    return i18n.format_day(value, current_language())


def moment(value: datetime | None, *, seconds: bool = False) -> str:
    return i18n.format_time(value, current_language(), seconds=seconds)


def error_text(exc: Exception) -> str:
    return i18n.translate_error(exc, current_language())


def when(value, *, seconds: bool = False) -> str:
    """A stored order time from ``core.db.read_moment``: a date and time, or as stored when it is
    no date (``InvalidDate``)."""
    from core.db import InvalidDate

    if isinstance(value, InvalidDate):
        return str(value)
    return moment(value, seconds=seconds)
