"""Shared fixtures: a small seeded database on each backend (a real DuckDB file, a real
PostgreSQL database), and the throwaway PostgreSQL cluster behind the latter."""
from __future__ import annotations

import shutil

import pytest

from scripts import pgcluster
from tests.backends import BACKENDS, new_target
from tests.sample_data import sample_database


@pytest.fixture(scope="session")
def postgres_cluster():
    """A PostgreSQL cluster for this test run, stopped and removed after it."""
    if pgcluster.binaries() is None:
        pytest.fail("PostgreSQL is not installed: bash scripts/test.sh installs it")
    folder = pgcluster.new_folder()
    cluster = pgcluster.start(folder)
    yield cluster
    cluster.stop(at_once=True)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_target(backend, tmp_path, request):
    """A new, empty database of the test's backend: a DuckDB file's path or a PostgreSQL URL."""
    cluster = request.getfixturevalue("postgres_cluster") if backend == "postgresql" else None
    return new_target(backend, tmp_path, cluster)


@pytest.fixture(scope="module", params=BACKENDS)
def sample_db(request, tmp_path_factory):
    """(store, sample): 300 orders in 12 stores of 3 legal entities, read-only use, on each
    backend."""
    cluster = (request.getfixturevalue("postgres_cluster") if request.param == "postgresql"
               else None)
    database, sample = sample_database(new_target(request.param, tmp_path_factory.mktemp("db"),
                                                  cluster))
    yield database, sample
    database.close()
