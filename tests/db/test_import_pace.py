"""A paced import (``python -m core import --pace``, ``core.importer.pace``) on both backends:
the same rows as at full speed, written slice by slice with a pause after each, and still all or
nothing."""
from __future__ import annotations

import pytest

from core.db import open_database
from core.importer import import_files
from core.importer.pace import Pace
from tests.db.import_fixtures import (  # noqa: F401 (fixtures)
    base_db, item_row, order_row, snapshot, sorted_rows, store_row, write_files,
)

SLICE = 5
NEW_ORDERS = [order_row(300 + i, store_id="S3" if i % 2 else "S1", merchant_order_id=f"MO-{i}")
              for i in range(23)]
FILES = dict(
    stores=[store_row("S3")],
    # 101 synced Pending → Completed and 102 given another e-mail: two changed orders
    orders=[order_row(101, status="Completed", amount="100.00"),
            order_row(102, status="Completed", channel="offline", amount="50.00",
                      email="new@wp.pl"), *NEW_ORDERS],
    items=[item_row(o, line, name=f"Line {line}") for o in range(300, 323) for line in (1, 2)]
    + [item_row(107, 1, name="Shirt", quantity="3", unit_price="20.00"),
       item_row(107, 2, name="Belt", quantity="1", unit_price="5.00")],
)


@pytest.fixture(autouse=True)
def small_slices(monkeypatch):
    """Slices of 5 rows, so that the test's few dozen rows take several."""
    monkeypatch.setattr("core.db.importing.slices.SLICE_ROWS", SLICE)


def _comparable(database) -> dict:
    tables = {t: sorted_rows(database, f"SELECT * FROM {t}")
              for t in ("stores", "orders", "order_items")}
    # event ids, times and idempotency keys differ from one import to the next
    tables["order_events"] = sorted_rows(
        database, "SELECT order_id, kind, amount, items, reason, username FROM order_events")
    return tables


def test_a_paced_import_writes_exactly_what_one_at_full_speed_writes(base_db, tmp_path):
    files = write_files(tmp_path, **FILES)
    results, reports, pauses = {}, {}, []
    for name, pace in (("full", Pace(1)), ("paced", Pace(0.5, sleep=pauses.append))):
        (tmp_path / name).mkdir()
        with open_database(base_db.copy(tmp_path / name)) as database:
            reports[name] = import_files(database, **files, pace=pace)
            results[name] = _comparable(database)
    assert results["paced"] == results["full"]
    assert str(reports["paced"]) == str(reports["full"])
    assert "orders              23 added          2 updated          0 unchanged" in \
        str(reports["paced"])
    # 23 new orders in 5 slices, 46 new lines in 10 (the 2 changed orders and the 1 new line of
    # order 107 fit in one each): a pause between slices, none after a statement's last one
    assert len(pauses) == (5 - 1) + (10 - 1)
    assert all(p > 0 for p in pauses)


def test_a_paced_import_stopped_between_slices_has_written_nothing(base_db, tmp_path):
    files = write_files(tmp_path, **FILES)

    def sleep(_seconds):
        sleep.calls += 1
        if sleep.calls == 3:  # the orders' third slice is written, the fourth never comes
            raise KeyboardInterrupt
    sleep.calls = 0
    with open_database(base_db.copy(tmp_path)) as database:
        before = snapshot(database)
        with pytest.raises(KeyboardInterrupt):
            import_files(database, **files, pace=Pace(0.5, sleep=sleep))
        assert snapshot(database) == before
