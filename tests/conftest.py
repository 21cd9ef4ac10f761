"""Shared fixtures: a small seeded database on a real DuckDB file."""
from __future__ import annotations

import pytest

from tests.sample_data import sample_database


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    """(store, sample): 300 orders in 12 stores of 3 legal entities, read-only use."""
    database, sample = sample_database(tmp_path_factory.mktemp("db") / "orders.duckdb")
    yield database, sample
    database.close()
