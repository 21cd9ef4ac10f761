"""The languages of the desk: gettext catalogues and the local formats of numbers and dates.

Every text orderdesk writes is an English message (the catalogues' msgid). ``translator(lang)``
gives that language's ``gettext``-like callable (with ``.ngettext``); English gives the message
unchanged, so English screens read exactly as before. The catalogues are the standard gettext
``locale/<lang>/LC_MESSAGES/orderdesk.po`` files, parsed with Babel once per process: no compiled
``.mo`` file and no build step.

Core code does not know the current language: it marks its user-facing messages with ``N_``
(so that the extractor finds them) and keeps them in English; the error's template and values are
translated where it is shown (``translate_error``), and functions that write words for a user
(the export's info sheet, the import report) take a ``lang`` argument.

Amounts, counts and dates are formatted with CLDR's conventions (Babel): Polish and Russian
``9 307 345,67`` (with a no-break space), Romanian ``9.307.345,67``, English ``9,307,345.67``.
Amounts stay ``Decimal`` all the way: Babel formats a Decimal without a float.
"""
from __future__ import annotations

import gettext
import threading
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LANGUAGES: dict[str, str] = {"en": "English", "pl": "Polski", "ro": "Română", "ru": "Русский"}
DEFAULT_LANGUAGE = "en"
DOMAIN = "orderdesk"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_LOCK = threading.Lock()


def N_(message: str) -> str:
    """Mark a message for translation without translating it (translated where it is shown)."""
    return message


def check_language(lang: object) -> str:
    """``lang`` when it is one of the desk's languages; otherwise refused with a clear message."""
    from core.errors import InvalidInput  # core.errors marks its own messages with N_

    if lang not in LANGUAGES:
        raise InvalidInput(N_("Unknown language {lang!r}: choose one of {choices}."),
                           lang=str(lang), choices=", ".join(LANGUAGES))
    return str(lang)


def normal_language(lang: object) -> str:
    """A known language, or the default one (an old record, a missing value)."""
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


class Translations:
    """One language's messages: ``t("…")`` and ``t.ngettext(singular, plural, n)``.

    A message missing from the catalogue (or with an empty translation) is shown in English.
    """

    def __init__(self, lang: str, messages: dict, plural: Callable[[int], int] | None) -> None:
        self.lang = lang
        self._messages = messages
        self._plural = plural

    def __call__(self, message: str) -> str:
        return self.gettext(message)

    def gettext(self, message: str) -> str:
        found = self._messages.get(message)
        return found if isinstance(found, str) and found else message

    def pgettext(self, context: str, message: str) -> str:
        """``message`` in a context (one English word that two places translate apart)."""
        found = self._messages.get((context, message))
        return found if isinstance(found, str) and found else message

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        forms = self._messages.get(singular)
        if isinstance(forms, tuple) and self._plural is not None and all(forms):
            return forms[min(self._plural(count), len(forms) - 1)]
        return singular if count == 1 else plural


@lru_cache(maxsize=None)
def translator(lang: str | None = None) -> Translations:
    """The ``gettext``-like callable of ``lang`` (English, unknown or None: the messages as is)."""
    lang = normal_language(lang)
    if lang == DEFAULT_LANGUAGE:
        return Translations(lang, {}, None)
    with _LOCK:
        catalog = load_catalog(lang)
    messages: dict = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, (tuple, list)) else message.id
        value = tuple(message.string) if isinstance(message.string, (tuple, list)) \
            else message.string
        if message.fuzzy:
            continue
        messages[(message.context, key) if message.context else key] = value
    # The catalogue's own Plural-Forms expression picks the form, as gettext does.
    return Translations(lang, messages, gettext.c2py(catalog.plural_expr))


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_catalog(lang: str):
    """The parsed catalogue of ``lang`` (Babel's ``Catalog``)."""
    with open(catalog_path(lang), "rb") as handle:
        return read_po(handle, locale=lang, domain=DOMAIN)


# -- formats ---------------------------------------------------------------------------------------

_DATE = "dd.MM.yyyy"  # the same in the four languages (CLDR's medium/short forms differ)
_MINUTES = "dd.MM.yyyy HH:mm"
_SECONDS = "dd.MM.yyyy HH:mm:ss"


def _babel_locale(lang: str | None) -> str:
    return {"en": "en_US"}.get(normal_language(lang), normal_language(lang))


def format_money(amount: Decimal | int | None, lang: str | None = None) -> str:
    """An amount with two decimals in the language's way: ``9,307,345.67`` / ``9 307 345,67``;
    ``None`` → empty. Exact: a Decimal is formatted as a Decimal."""
    if amount is None:
        return ""
    from core.money import quantize_amount

    return format_decimal(quantize_amount(amount), format="#,##0.00",
                          locale=_babel_locale(lang), decimal_quantization=True)


def format_count(count: int | None, lang: str | None = None) -> str:
    """A whole number with the language's grouping: ``1,234,567`` / ``1 234 567``."""
    if count is None:
        return ""
    return format_decimal(count, format="#,##0", locale=_babel_locale(lang))


def format_day(day: date | None, lang: str | None = None) -> str:
    """A date as ``01.12.2026`` (the four languages write it so)."""
    if day is None:
        return ""
    return _babel_date(day, _DATE, locale=_babel_locale(lang))


def format_time(moment: datetime | None, lang: str | None = None, *,
                seconds: bool = False) -> str:
    """A date and time as ``02.12.2026 14:35`` (``:08`` with ``seconds``), as it is given (the
    display time zone's wall clock): no time zone conversion here."""
    if moment is None:
        return ""
    # A time zone-aware moment keeps its own wall clock (Babel converts only when told to).
    return _babel_datetime(moment, _SECONDS if seconds else _MINUTES,
                           locale=_babel_locale(lang))


def translate_error(exc: Exception, lang: str | None) -> str:
    """An ``OrderdeskError``'s message in ``lang`` (its template translated, its values put in)."""
    translated = getattr(exc, "translated", None)
    return translated(translator(lang)) if translated else str(exc)


def fill(template: str, values: dict, t: "Translations | None" = None) -> str:
    """``template`` (already translated) with ``values`` put in, in the language of ``t``:
    amounts (Decimals) in its format, a value that is itself a message (an error, a
    ``Message``) translated too. Without ``t``: English."""
    if not values:
        return template
    if t is None:
        for value in values.values():
            if type(value) is not str:
                break
        else:  # only text: the common case (a refused import's reasons), quickly
            return template.format_map(values)
    lang = t.lang if t is not None else DEFAULT_LANGUAGE
    shown = {}
    for name, value in values.items():
        if isinstance(value, Decimal):
            value = format_money(value, lang)
        elif isinstance(value, Count):
            value = format_count(value, lang)
        elif t is not None and hasattr(value, "translated"):
            value = value.translated(t)
        shown[name] = value
    return template.format(**shown)


class Count(int):
    """A number a message writes with the language's grouping (``1,048,575`` / ``1 048 575``);
    a plain ``int`` (an order ID, a line number) is written as it is."""


class Message(str):
    """A message for a user that is its English text (a ``str``: compared, joined and logged as
    such) and keeps its template and values, to be shown in another language
    (``translate_error``). A value may itself be a ``Message``: it is translated with it.

    ``Message(N_("…{value}…"), value=…)``; a message with a count in it is made by
    ``N_plural``, which keeps both English forms so that each language picks its own."""

    template: str
    values: dict
    plural: str | None = None  # the English plural form (``N_plural``), the template singular

    def __new__(cls, template: str, /, **values: object) -> "Message":
        message = super().__new__(cls, fill(template, values))
        message.template, message.values = template, values
        return message

    def translated(self, t: "Translations") -> str:
        template = (t.ngettext(self.template, self.plural, self.values["count"])
                    if self.plural is not None else t(self.template))
        try:
            return fill(template, self.values, t)
        except (KeyError, IndexError, ValueError):  # a translation that lost a placeholder
            return str(self)


def N_plural(singular: str, plural: str, count: int, /, **values: object) -> Message:
    """A ``Message`` with a count, marked for extraction as a plural pair (``{count}`` in both
    forms): English picks the singular for 1, another language its own form for ``count``
    (Polish and Russian have three). ``count`` as a ``Count`` is written with the language's
    grouping."""
    message = Message(singular if count == 1 else plural, count=count, **values)
    message.template, message.plural = singular, plural
    return message
