"""The pages of a database that holds order times no calendar can show, through the real
sign-in form (AppTest): each page shows those orders flagged and everything else."""
from __future__ import annotations

import pytest

from core.db import open_database
from tests.pages.conftest import new_app, sign_in, target_of
from tests.unreadable import STORED_BY_BACKEND, UNREADABLE, add_unreadable_orders

FLAGGED = {f"invalid date (stored: {stored})"
           for stored_by_id in STORED_BY_BACKEND.values() for stored in stored_by_id.values()}


@pytest.fixture
def bad_dates(writable):
    root, sample = writable
    with open_database(target_of(root)) as database:
        add_unreadable_orders(database)
    return root, sample


def shown(at) -> dict[int, str]:
    frame = at.dataframe[0].value
    return dict(zip((int(v) for v in frame["Order ID"]), frame["Order date"]))


def no_failure(at) -> None:
    assert not at.exception
    assert not [e.value for e in at.error]


@pytest.mark.parametrize("descending", [True, False], ids=["newest first", "oldest first"])
def test_the_orders_list_shows_them_flagged_at_either_end(bad_dates, descending):
    _, sample = bad_dates
    at = sign_in(new_app(None if descending else {"desc": "0"}), "viewer")  # Alpha SRL: S01
    no_failure(at)
    rows = shown(at)
    flagged = {i: text for i, text in rows.items() if i in UNREADABLE}
    # Newest first, the times after 2200 (and infinity) lead; oldest first, those before 1970.
    expected = {900003, 900004, 900005, 900007} if descending else {900001, 900002, 900006,
                                                                     900008}
    assert set(flagged) == expected
    assert set(flagged.values()) <= FLAGGED
    assert all(text[2] == "." and text[5] == "." for i, text in rows.items()
               if i not in UNREADABLE)  # 31.01.2026 10:00
    # Sorted by date in the other direction through the toggle, the other half leads.
    at.toggle(key="orders.desc").set_value(not descending).run()
    no_failure(at)
    assert {i for i in shown(at) if i in UNREADABLE} == set(UNREADABLE) - expected


def test_the_admin_finds_one_by_its_order_id_and_opens_it(bad_dates):
    at = sign_in(new_app(), "admin")
    at.text_input(key="orders.search").input("900004").run()
    no_failure(at)
    assert shown(at) == {900004: "invalid date (stored: 9999-12-31 23:30:00)"}
    at = sign_in(new_app({"id": "900004"}), "admin")
    at.switch_page("screens/order.py").run()
    no_failure(at)
    assert [t.value for t in at.title] == ["Order 900004"]
    page = " ".join(m.value for m in at.markdown)
    assert "invalid date (stored: 9999-12-31 23:30:00)" in page
    assert [m.value for m in at.metric][:1] == ["12.34"]


def test_the_overview_counts_them_and_says_they_are_not_on_the_chart(bad_dates):
    _, sample = bad_dates
    at = sign_in(new_app(), "admin")
    at.switch_page("screens/overview.py").run()
    no_failure(at)
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Orders"] == f"{len(sample.orders) + len(UNREADABLE):,}"
    captions = " | ".join(c.value for c in at.caption)
    assert f"{len(UNREADABLE)} orders have a stored time that is no date" in captions


def test_the_export_is_built_with_them(bad_dates):
    at = sign_in(new_app(), "viewer")
    next(b for b in at.button if b.label == "Export to xlsx").click().run()
    no_failure(at)
    assert "ready to download" in " ".join(c.value for c in at.caption)
