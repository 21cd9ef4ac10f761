"""The demo's plan, without a database: its period, its arguments and its stores."""
from __future__ import annotations

import datetime as dt

import pytest

from core.demo import demo_period, plan_legal_entities, plan_stores
from core.demo.plan import check_demo_arguments
from core.errors import InvalidInput

TODAY = dt.date(2026, 3, 15)


def test_period_is_the_twelve_months_up_to_the_end_of_today():
    assert demo_period(TODAY, 12) == (dt.datetime(2025, 3, 16), dt.datetime(2026, 3, 16))
    # A month back from 31 March is the last day of February.
    assert demo_period(dt.date(2026, 3, 30), 1) == (
        dt.datetime(2026, 2, 28), dt.datetime(2026, 3, 31))


@pytest.mark.parametrize("arguments", [
    {"orders": 0}, {"orders": -5}, {"stores": 3, "legal_entities": 4}, {"legal_entities": 0},
    {"months": 0}, {"seed": -1}, {"orders": 10.5}, {"orders": "100"}, {"months": True},
])
def test_impossible_arguments_are_refused(arguments):
    with pytest.raises(InvalidInput):
        check_demo_arguments(**{"orders": 100, "seed": 7, "stores": 40, "legal_entities": 4,
                                "months": 12, **arguments})


def test_stores_are_planned_alike_for_every_call_and_each_entity_has_a_web_shop():
    planned = plan_stores(40, 4)
    assert planned == plan_stores(40, 4)
    assert [s.store_id for s in planned] == [f"S{k:03d}" for k in range(1, 41)]
    for entity in plan_legal_entities(4):
        assert any(s.web for s in planned if s.legal_entity == entity.name)
    online_only = [e.name for e in plan_legal_entities(4) if e.online_only]
    assert all(s.web for s in planned if s.legal_entity in online_only)
