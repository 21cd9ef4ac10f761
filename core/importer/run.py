"""An import from start to end: read every file, check every row, write in one transaction.

One bad row refuses the whole import, having written nothing; a clean import is written in one
transaction and verified after its commit. DuckDB reads and checks the files on both backends,
within ``IMPORT_MEMORY_LIMIT`` (``core.db.importing.session``: on PostgreSQL a DuckDB database in
memory does, and the merge is written in PostgreSQL's transaction).
"""
from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from core.i18n import N_
from core.db.importing.checks import run_checks
from core.db.importing.files import StagedFile
from core.db.importing.frame import import_saved, mark_import
from core.db.importing.session import file_reader, import_transaction
from core.db.importing.staging import stage_files, stage_refunded
from core.db.importing.writing import apply, plan
from core.errors import DataUnavailable, InvalidInput
from core.importer.files import read_file
from core.importer.formats import COLUMNS, KINDS
from core.importer.pace import FULL_SPEED, Pace
from core.importer.report import ImportProblem, ImportReport, Progress, rejected
from core.importer.values import utc_now


def import_files(
    database,
    stores: Path | str | None = None,
    orders: Path | str | None = None,
    items: Path | str | None = None,
    progress: Progress | None = None,
    pace: Pace = FULL_SPEED,
) -> ImportReport:
    """Check every row of the given files, then load them in one transaction.

    Raises ``ImportRejected`` (with ``problems``, one ``ImportProblem`` per bad row and column)
    when anything is wrong, having written nothing. ``progress(fraction, message)`` is called as
    the work goes on, for a progress bar. ``pace`` slows the writes down to a share of the time,
    so that a large import leaves the CPU to the analysts (``core.importer.pace``).
    """
    def step(fraction: float, message: str) -> None:
        if progress is not None:
            progress(fraction, message)

    paths = {k: Path(p) for k, p in (("stores", stores), ("orders", orders), ("items", items)) if p}
    if not paths:
        raise InvalidInput(N_("Give at least one file to import: stores, orders or items."))
    with tempfile.TemporaryDirectory(prefix="orderdesk-import-") as scratch, \
            file_reader(database, Path(scratch)) as reader:
        staged = _read_files(reader, paths, step, Path(scratch))
        return _check_and_write(database, reader, staged, tuple(p.name for p in paths.values()),
                                step, Path(scratch), pace)


def _read_files(reader, paths: dict[str, Path], step: Progress, scratch: Path
                ) -> dict[str, StagedFile]:
    """Every file read and its header checked; ``ImportRejected`` with every file's problems."""
    staged: dict[str, StagedFile] = {}
    problems: list[ImportProblem] = []
    for i, (kind, path) in enumerate(paths.items()):
        step(0.4 * i / len(paths), f"Reading {path.name}")
        one, found = read_file(reader, kind, path, scratch)
        problems += found
        if one is not None:
            staged[kind] = one
    if problems:
        raise rejected(problems, [p.name for p in paths.values()])
    return staged


def _check_and_write(database, reader, staged: dict[str, StagedFile], names: tuple[str, ...],
                     step: Progress, scratch: Path, pace: Pace) -> ImportReport:
    report = ImportReport(files=names)
    batch = str(uuid.uuid4())
    now = utc_now()
    with import_transaction(database, reader, scratch, pace) as session:
        step(0.4, N_("Checking every row"))
        stage_files(session.checks, staged, now)
        session.load()  # the database's rows of the imported orders, locked until the commit
        stage_refunded(session.checks)
        problems = run_checks(session.checks, {kind: staged[kind].name for kind in KINDS
                                               if kind in staged}, now)
        if problems:
            columns = [(staged[kind].name, COLUMNS[kind]) for kind in KINDS if kind in staged]
            raise rejected(problems, list(names), columns)
        step(0.7, N_("Writing"))
        plan(session.checks, report)
        session.publish()
        apply(session.target, report, staged["orders"].name if "orders" in staged else None, now,
              session.pace)
        mark_import(session.target, batch, now, names)
    if not import_saved(database, batch):
        raise DataUnavailable(N_(
            "The import was not saved: the database changed at the same time. Nothing was "
            "written; try again."
        ))
    step(1.0, N_("Done"))
    return report
