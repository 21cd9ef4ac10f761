"""The two backends the store, page and CLI tests run against: a DuckDB file, and a database on a
throwaway PostgreSQL cluster started once per test run (``scripts/pgcluster.py``; the test
command installs PostgreSQL from Debian's packages when it is missing)."""
from __future__ import annotations

import itertools
from pathlib import Path

BACKENDS = ("duckdb", "postgresql")

_names = itertools.count(1)


def new_target(backend: str, folder: Path, cluster) -> Path | str:
    """A new, empty database of ``backend``: a file in ``folder``, or a database on ``cluster``."""
    if backend == "duckdb":
        return folder / f"orders-{next(_names)}.duckdb"
    return cluster.create_database(f"test_{next(_names)}")
