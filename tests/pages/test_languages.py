"""Every page in Polish, Romanian and Russian through the real sign-in form: no English text of
orderdesk's is left on the page (names and data values aside), amounts read the language's way,
and the sidebar's Language applies at once and is kept for the next sign-in."""
from __future__ import annotations

import json
import re
import string

import pytest
from google.protobuf.json_format import MessageToDict

from core.i18n import format_money, load_catalog, translator
from core.db import open_database
from core.user_store import open_users
from ui.text import as_text
from tests.pages.conftest import edit_test_users, new_app, sign_in, target_of

LANGS = ("pl", "ro", "ru")
PAGES = ("screens/orders.py", "screens/refunds.py", "screens/overview.py", "screens/data.py",
         "screens/order.py")  # the Order page last: its refund dialog is opened next


def _english_messages(lang: str) -> list[str]:
    """The catalogue's English texts worth looking for: their literal pieces of at least 8
    characters, of messages whose translation differs (a name such as "E-mail" does not)."""
    pieces = set()
    for entry in load_catalog(lang):
        if not entry.id or entry.context:
            continue
        ids = entry.id if isinstance(entry.id, (tuple, list)) else (entry.id,)
        forms = entry.string if isinstance(entry.string, (tuple, list)) else (entry.string,)
        if set(ids) & set(forms):
            continue
        for text in ids:
            for literal, *_ in string.Formatter().parse(text):
                literal = literal.strip(" ·:;,.()*")
                if len(literal) >= 8 and not literal.isupper():
                    pieces.add(literal)
    return sorted(pieces)


def _texts(value, key: str = "") -> list[str]:
    """Every string of an element's message; of a chart's spec, the words it shows (titles and
    the legends' names), not its data, field names or keywords."""
    if isinstance(value, dict):
        return [t for k, v in value.items() if k not in ("data", "datasets", "id", "formId")
                for t in _texts(v, k)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v, key)]
    if isinstance(value, str) and key == "spec":
        return _spec_texts(json.loads(value))
    return [value] if isinstance(value, str) else []


def _spec_texts(value, key: str = "") -> list[str]:
    if isinstance(value, dict):
        return [t for k, v in value.items() if k != "datasets" for t in _spec_texts(v, k)]
    if isinstance(value, list):
        return [t for v in value for t in _spec_texts(v, key)]
    return [value] if isinstance(value, str) and key in ("title", "domain") else []


def page_texts(at) -> list[str]:
    texts = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            texts.extend(_texts(MessageToDict(proto)))
        children = getattr(node, "children", None) or {}
        for child in (children.values() if isinstance(children, dict) else children):
            walk(child)

    walk(at._tree)
    for frame in at.dataframe:
        texts.extend(str(column) for column in frame.value.columns)
    return texts


def english_left(at, lang: str, also: list[str] = ()) -> list[str]:
    """The English messages on the page (and in ``also``: a table's cells, which a page's texts
    do not include), in whole words."""
    texts = "\n".join([*page_texts(at), *also])
    # Whole words only: a file format's column "refunded_amount" is no English sentence.
    return sorted({piece for piece in _english_messages(lang)
                   if re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", texts)})


def stored_language(folder, username: str) -> str:
    """The user's language where the users live (the users file, or PostgreSQL's table)."""
    with open_database(target_of(folder)) as database:
        users = open_users(folder / "users.yaml", target_of(folder), lambda: database)
        return users.load()[username].language


def _open(at, page: str, order_id: str | None = None):
    at.switch_page(page)
    if order_id:
        at.query_params["id"] = order_id
    return at.run()


@pytest.fixture
def speaking(writable):
    """Sign in as the admin whose record says ``lang``."""
    folder, sample = writable

    def sign_in_in(lang: str):
        with edit_test_users(folder) as users:
            users["admin"] = users["admin"].__class__(**{**users["admin"].__dict__,
                                                        "language": lang})
        return sign_in(new_app(), "admin")

    return sign_in_in, sample


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_is_in_the_user_s_language(speaking, lang):
    sign_in_in, sample = speaking
    at = sign_in_in(lang)
    t = translator(lang)
    items = {line["order_id"] for line in sample.items}
    order = next(o for o in sample.orders if o["status"] == "Completed" and o["order_id"] in items)
    for page in PAGES:
        at = _open(at, page, str(order["order_id"]) if page.endswith("order.py") else None)
        assert not at.exception, (page, at.exception)
        left = english_left(at, lang)
        assert not left, f"{page} in {lang}: English left: {left}"
        assert [title.value for title in at.title], page
    # The refund dialog of the order, and its history.
    at.button(key="order.refund").click().run()
    assert not at.exception
    assert any(c.value.startswith(t("Order {order_id}").format(order_id=order["order_id"]))
               for c in at.caption)
    left = english_left(at, lang)
    assert not left, f"the refund dialog in {lang}: English left: {left}"
    # A refusal of core's, with its values, in the language too.
    next(b for b in at.button if b.label == t("Complete a refund")).click().run()
    assert [e.value for e in at.error] == [as_text(t("Choose at least one item to refund "
                                                     "(a quantity above 0)."))]
    # A few landmarks, in the words of the trade.
    at = _open(at, "screens/orders.py")
    assert at.title[0].value == t("Orders")
    assert any(button.label == t("Export to xlsx") for button in at.button)
    headers = at.checkbox(key="export.headers.orders")
    assert headers.label == t("Column headers in {language}").format(
        language={"pl": "Polski", "ro": "Română", "ru": "Русский"}[lang])
    total = sum(o["amount"] for o in sample.orders)
    assert format_money(total, lang) in at.caption[-2].value or any(
        format_money(total, lang) in c.value for c in at.caption)


def test_the_language_box_applies_at_once_keeps_the_view_and_the_next_sign_in(writable):
    folder, _sample = writable
    at = sign_in(new_app(), "viewer")
    assert at.title[0].value == "Orders"
    assert "export.headers.orders" not in [box.key for box in at.checkbox]  # English: none
    # The check above finds English where it is: on the English page, many messages.
    assert {"Clear filters", "Export to xlsx", "Quick period"} <= set(english_left(at, "pl"))
    at.multiselect(key="filters.status").set_value(["Completed"]).run()
    box = at.selectbox(key="app.language_choice")
    assert box.options == ["English", "Polski", "Română", "Русский"]
    box.set_value("pl").run()
    assert at.title[0].value == "Zamówienia"
    assert at.session_state["authentication_status"]  # still signed in
    assert at.multiselect(key="filters.status").value == ["Completed"]  # the view is kept
    assert at.multiselect(key="filters.status").options == ["Oczekujące", "Zrealizowane",
                                                            "Anulowane", "Zwrócone"]
    assert at.query_params["status"] in ("Completed", ["Completed"])  # URLs stay English
    assert stored_language(folder, "viewer") == "pl"
    # The next sign-in, from another browser, starts in Polish.
    again = sign_in(new_app(), "viewer")
    assert again.title[0].value == "Zamówienia"
    again.selectbox(key="app.language_choice").set_value("en").run()
    assert again.title[0].value == "Orders"


# One bad value of each of several kinds (file-level problems: tests/db/test_import.py). The
# statuses are the file format's values, which a reason quotes as the file writes them.
BAD_ORDERS = (
    "order_id,created_at,merchant_order_id,amount,status,channel,email,phone,store_id,"
    "salesperson_id,salesperson_name\n"
    "9002,2026-05-01T10:00:00,B-1,10.505,Completed,online,,,S01,,\n"
    "9003,not-a-date,B-2,5.00,Pending,offline,,,S01,,\n"
    "9004,2026-05-01T10:00:00,B-3,\"339,99\",Completed,web,,,S99,,\n"
    "9002,2026-05-01T10:00:00,B-4,0,Cancel,online,,,,,\n")
BAD_ITEMS = "order_id,line_no,name,quantity,unit_price\n9999999,1,Socks,0,1.5.0\n"


@pytest.mark.parametrize("lang", ("pl", "ru"))
def test_a_refused_import_s_reasons_are_in_the_user_s_language(speaking, lang):
    sign_in_in, _sample = speaking
    at = _open(sign_in_in(lang), "screens/data.py")
    t = translator(lang)
    for label, name, content in ((t("Orders"), "orders.csv", BAD_ORDERS),
                                 (t("Items"), "items.csv", BAD_ITEMS)):
        next(u for u in at.get("file_uploader") if u.label == label).set_value(
            (name, content.encode(), "text/csv"))
    at.run()
    next(b for b in at.button if b.label == t("Import")).click().run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert list(frame.columns) == [t("File"), t("Row"), t("Column"), t("Reason")]
    reasons = [str(reason) for reason in frame[t("Reason")]]
    assert len(reasons) >= 9, reasons
    left = english_left(at, lang, also=reasons)
    assert not left, f"the Data page's refusal in {lang}: English left: {left}"
    # The values stay as the file holds them.
    assert any("10.505" in r for r in reasons) and any("S99" in r for r in reasons)
    assert any("9002" in r for r in reasons) and any("web" in r for r in reasons)


def test_a_link_s_ignored_values_are_told_in_the_user_s_language(speaking):
    sign_in_in, _sample = speaking
    sign_in_in("ru")
    at = sign_in(new_app({"status": "Nope", "page": "x"}), "admin")
    warnings = [w.value for w in at.warning]
    assert as_text("Статус «Nope» пропущен: его нет среди ваших вариантов.") in warnings
    assert as_text("Страница «x» пропущена: это не номер страницы.") in warnings
