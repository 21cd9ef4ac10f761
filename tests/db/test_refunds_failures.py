"""Cancels and refunds that break off, on both backends: a failure midway writes nothing, a
COMMIT that silently kept nothing is never reported as a success, and a committed refund survives
``kill -9``. The orders and helpers are ``test_refunds``'s."""
from __future__ import annotations

import contextlib
import subprocess
import sys

import pytest

from core import actions
from core.db import open_database
from core.errors import ActionFailed, WriteConflict
from tests.db.test_refunds import (  # noqa: F401 (db is a fixture)
    D, REFUNDER, ROOT, TZ, db, figures, key, snapshot,
)


# -- a failure midway writes nothing ---------------------------------------------------------------

def boom() -> None:
    raise RuntimeError("disk on fire")


@pytest.mark.parametrize("call, message", [
    (lambda db: actions.refund_order(db, REFUNDER, 2, idempotency_key="k-fail", items={1: 1},
                                     tz=TZ),
     "The refund failed and nothing was refunded; the order is unchanged. Please try again."),
    (lambda db: actions.cancel_order(db, REFUNDER, 3, idempotency_key="k-fail", tz=TZ),
     "The cancel failed and the order was not cancelled; the order is unchanged. "
     "Please try again."),
])
def test_failure_between_writes_writes_nothing_and_says_it_failed(db, monkeypatch, call,
                                                                  message):
    before = snapshot(db)
    monkeypatch.setattr(actions, "_between_writes", boom)
    with pytest.raises(ActionFailed) as err:
        call(db)
    assert str(err.value) == message
    assert snapshot(db) == before
    monkeypatch.setattr(actions, "_between_writes", lambda: None)
    assert call(db).already_processed is False  # the same form, retried, now goes through


def silently_rolled_back(database, times: int):
    """``database``'s class's ``transaction`` whose COMMIT returns without error while nothing is
    kept, the first ``times`` times — what DuckDB does after some conflicts (docs/stack-facts.md,
    DuckDB)."""
    original = type(database).transaction
    calls: list[int] = []

    @contextlib.contextmanager
    def transaction(self):
        if len(calls) >= times:
            with original(self) as cur:
                yield cur
            return
        calls.append(1)
        with self.cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            yield cur
            cur.execute("ROLLBACK")

    return transaction, calls


def test_success_is_reported_only_for_a_refund_really_stored(db, monkeypatch):
    transaction, calls = silently_rolled_back(db, times=1)
    monkeypatch.setattr(type(db), "transaction", transaction)
    result = actions.refund_order(db, REFUNDER, 1, idempotency_key=key(), amount="7", tz=TZ)
    assert len(calls) == 1 and not result.already_processed
    assert figures(db, 1) == ("Completed", D("7.00"))
    assert [e.event_id for e in db.fetch_history(db.fetch_order(REFUNDER.scope, 1, TZ), TZ)] == [result.event_id]


def test_a_refund_never_stored_is_reported_as_not_done(db, monkeypatch):
    before = snapshot(db)
    transaction, _ = silently_rolled_back(db, times=actions.MAX_ATTEMPTS)
    monkeypatch.setattr(type(db), "transaction", transaction)
    with pytest.raises(WriteConflict, match="nothing was refunded"):
        actions.refund_order(db, REFUNDER, 1, idempotency_key=key(), amount="7", tz=TZ)
    assert snapshot(db) == before

# -- durability ------------------------------------------------------------------------------------

KILLED_REFUND = """
import os, signal, sys
from zoneinfo import ZoneInfo
from core import actions, status
from core.db import open_database, writes
from core.status import Action
from core.users import User
database = open_database(sys.argv[1])
user = User("rafa", "Rafa", "", "$2b$x", "refunder", legal_entities=("Alpha SRL",))
result = actions.refund_order(database, user, 1, idempotency_key="k-killed", amount="12.34",
                              tz=ZoneInfo("UTC"))
print(result.event_id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_refund_committed_before_kill_9_is_there_after_a_restart(db, database_target):
    path = database_target
    db.close()
    proc = subprocess.run([sys.executable, "-c", KILLED_REFUND, str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9, proc.stderr
    event_id = int(proc.stdout.strip())
    with open_database(path) as reopened:
        assert figures(reopened, 1) == ("Completed", D("12.34"))
        [event] = reopened.fetch_history(reopened.fetch_order(REFUNDER.scope, 1, TZ), TZ)
        assert (event.event_id, event.amount) == (event_id, D("12.34"))
        again = actions.refund_order(reopened, REFUNDER, 1, idempotency_key="k-killed",
                                     amount="12.34", tz=TZ)
        assert again.already_processed and again.event_id == event_id
