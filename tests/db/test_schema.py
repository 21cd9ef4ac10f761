"""The schema's status CHECKs: every (status, channel, refunded amount) the status machine forbids
is refused by the database, every one it allows is accepted — on both backends for the CHECKs
generated from ``core.status``, and on a DuckDB file for those written by hand in databases
created before."""
from __future__ import annotations

import itertools
from decimal import Decimal

import duckdb
import pytest

from core import status
from core.db import open_database
from core.db.postgres.schema import TABLES as POSTGRES_TABLES
from core.db.schema import DDL, check_constraints
from core.errors import ConstraintViolation
from core.status import Action

AMOUNT = Decimal("100.00")
REFUNDED = (Decimal("0.00"), Decimal("40.00"), AMOUNT)  # nothing, a part, everything
TRIED_STATUSES = (*status.STATUSES, "Shipped", "pending", "")
TRIED_CHANNELS = (*status.CHANNELS, "pos", "Online")

# The orders table's status CHECKs as written by hand before they were generated: an existing
# database keeps them (CREATE TABLE IF NOT EXISTS), so they must mean the same.
HAND_WRITTEN_CHECKS = """
    CHECK (status IN ('Pending', 'Completed', 'Cancel', 'Return')),
    CHECK (channel IN ('online', 'offline')),
    CHECK (status <> 'Pending' OR channel = 'online'),
    CHECK (status <> 'Return' OR refunded_amount = amount),
    CHECK (status NOT IN ('Pending', 'Cancel') OR refunded_amount = 0)
"""


def reachable(channel: str) -> set[str]:
    """Every status an order of ``channel`` can be in: where it may start, then every move of an
    import or a user's action."""
    found = set(status.STARTING_STATUSES.get(channel, ()))
    while True:
        more = {after for current in found for after in status.IMPORT_MOVES[current]}
        more |= {after for current in found for action in Action
                 for after in status.action_leads_to(current, action)}
        if more <= found:
            return found
        found |= more


def machine_allows(order_status: str, channel: str, refunded: Decimal) -> bool:
    if order_status not in reachable(channel):
        return False
    if order_status in status.NOTHING_REFUNDED:
        return refunded == 0
    if order_status in status.ALL_REFUNDED:
        return refunded == AMOUNT
    return 0 <= refunded <= AMOUNT


COMBINATIONS = list(itertools.product(TRIED_STATUSES, TRIED_CHANNELS, REFUNDED))


def open_schema(path, ddl: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute(ddl)
    con.execute("INSERT INTO stores VALUES ('S1', 'Store', NULL, NULL, NULL, 'Alpha SRL', "
                "'Bucharest', 'RO')")
    return con


def accepted(con: duckdb.DuckDBPyConnection) -> dict[tuple, bool]:
    outcome = {}
    for order_id, (order_status, channel, refunded) in enumerate(COMBINATIONS, start=1):
        try:
            con.execute(
                "INSERT INTO orders (order_id, created_at, amount, refunded_amount, status, "
                "channel, store_id) VALUES (?, TIMESTAMP '2026-03-01 10:00', ?, ?, ?, ?, 'S1')",
                [order_id, AMOUNT, refunded, order_status, channel],
            )
        except duckdb.ConstraintException:
            outcome[(order_status, channel, refunded)] = False
        else:
            outcome[(order_status, channel, refunded)] = True
    return outcome


def test_the_machine_allows_what_docs_design_says():
    # A spot check of the oracle itself (docs/design.md §3), so the tests below test something.
    assert machine_allows("Pending", "online", Decimal("0.00"))
    assert not machine_allows("Pending", "offline", Decimal("0.00"))
    assert machine_allows("Completed", "offline", Decimal("40.00"))
    assert machine_allows("Completed", "online", AMOUNT)  # an import may bring it so
    assert not machine_allows("Cancel", "online", Decimal("40.00"))
    assert not machine_allows("Return", "offline", Decimal("40.00"))
    assert machine_allows("Return", "offline", AMOUNT)
    assert reachable("offline") == {"Completed", "Cancel", "Return"}
    assert sum(machine_allows(*c) for c in COMBINATIONS) == 6 + 5  # online, offline


def test_the_generated_checks_are_in_the_schema():
    for check in check_constraints():
        assert f"CHECK ({check})" in DDL
        assert f"CHECK ({check})" in POSTGRES_TABLES


def with_hand_written_checks(ddl: str) -> str:
    """The schema with the orders table's generated status CHECKs replaced by the old ones."""
    start = ddl.index("    CHECK (status IN")
    end = ddl.index(");", start)
    return ddl[:start] + HAND_WRITTEN_CHECKS + ddl[end:]


@pytest.mark.parametrize("ddl", [DDL, with_hand_written_checks(DDL)],
                         ids=["generated", "hand-written"])
def test_the_database_refuses_exactly_what_the_machine_forbids(tmp_path, ddl):
    con = open_schema(tmp_path / "schema.duckdb", ddl)
    try:
        outcome = accepted(con)
    finally:
        con.close()
    wrong = {combo: got for combo, got in outcome.items() if got != machine_allows(*combo)}
    assert not wrong, wrong


def test_each_backend_refuses_exactly_what_the_machine_forbids(database_target):
    """Through the database's own cursor and error translation: a refused row is a
    ``ConstraintViolation`` on both backends."""
    outcome = {}
    with open_database(database_target) as database:
        with database.cursor() as cur:
            cur.execute("INSERT INTO stores VALUES ('S1', 'Store', NULL, NULL, NULL, 'Alpha SRL', "
                        "'Bucharest', 'RO')")
        for order_id, (order_status, channel, refunded) in enumerate(COMBINATIONS, start=1):
            try:
                with database.cursor() as cur:
                    cur.execute(
                        "INSERT INTO orders (order_id, created_at, amount, refunded_amount, "
                        "status, channel, store_id) "
                        "VALUES (?, TIMESTAMP '2026-03-01 10:00', ?, ?, ?, ?, 'S1')",
                        [order_id, AMOUNT, refunded, order_status, channel])
            except ConstraintViolation:
                outcome[(order_status, channel, refunded)] = False
            else:
                outcome[(order_status, channel, refunded)] = True
    wrong = {combo: got for combo, got in outcome.items() if got != machine_allows(*combo)}
    assert not wrong, wrong
