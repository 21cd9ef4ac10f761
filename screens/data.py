"""The Data page (admins only): load stores, orders and item files into the running app.

The same importer as ``python -m core import``, with the same checks and report: while the app
holds the database, this page is how files get in.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from core.errors import ImportRejected
from core.importer import COLUMNS, EXTENSIONS, OPTIONAL_COLUMNS, XLSX_MAX_ROWS, import_files
from core.importer import KINDS as IMPORT_KINDS
from core.i18n import N_
from ui.context import get_database, refresh_data, require_user, show_error
from ui.i18n import _, count, current_language, ngettext
from ui.text import as_text

user = require_user(admin=True)

FILE_TYPES = [extension.lstrip(".") for extension in EXTENSIONS]


def _expected(kind: str) -> str:
    """The columns of a kind's file, as the uploader's help lists them."""
    optional = OPTIONAL_COLUMNS[kind]
    return ", ".join([c for c in COLUMNS[kind] if c not in optional]
                     + [_("optional {column}").format(column=c) for c in optional])


KIND_NAMES = {"stores": N_("Stores"), "orders": N_("Orders"), "items": N_("Items")}
KINDS = tuple((kind, _(KIND_NAMES.get(kind, kind.capitalize())), _expected(kind))
              for kind in IMPORT_KINDS)


def _refused(exc: ImportRejected) -> str:
    """A refused import's summary in the session's language (English: the error's own text)."""
    if current_language() == "en" or not exc.problems:
        return str(exc)
    problems = ngettext("{count} problem", "{count} problems", len(exc.problems)).format(
        count=count(len(exc.problems)))
    rows = len({(p.file, p.row) for p in exc.problems if p.row is not None})
    if not rows:
        return _("Import refused: {problems}; nothing was written.").format(problems=problems)
    return _("Import refused: {problems} in {rows}; nothing was written.").format(
        problems=problems,
        rows=ngettext("{count} row", "{count} rows", rows).format(count=count(rows)))


def _shown_step(message: str) -> str:
    """An import's progress message in the session's language ("Reading <file>" included)."""
    if message.startswith("Reading "):
        return _("Reading {file}").format(file=message.removeprefix("Reading "))
    return _(message)


st.title(_("Data"))
st.caption(_(
    "Load CSV, Parquet or XLSX files. Every row is checked first: if any row is bad, nothing is "
    "written and each bad row is listed. Re-importing an order syncs its status within the "
    "status rules."
))
# The upload limit is Streamlit's (server.maxUploadSize, in MB); the file is held in the server's
# memory until it is written to a temporary file for the importer, which DuckDB reads from disk.
# On a DuckDB file the command line waits for the app to let go of the file; on PostgreSQL it
# runs while the desk serves (README, "Running on PostgreSQL with several replicas").
limits = (_(
    "Spreadsheets: at most {rows} rows; larger data as CSV or Parquet, files up to {size} MB. "
    "Millions of orders load faster with `python -m core import` while the app is stopped."
) if get_database().backend != "postgresql" else _(
    "Spreadsheets: at most {rows} rows; larger data as CSV or Parquet, files up to {size} MB. "
    "Millions of orders load faster with `python -m core import`, which runs while the desk "
    "serves."
))
st.caption(limits.format(rows=count(XLSX_MAX_ROWS),
                         size=count(st.get_option('server.maxUploadSize'))))

uploads = {}
columns = st.columns(3)
for column, (kind, label, expected) in zip(columns, KINDS):
    with column:
        uploads[kind] = st.file_uploader(label, type=FILE_TYPES, key=f"data.{kind}",
                                         help=_("Columns: {columns}").format(columns=expected))


def _safe_name(name: str) -> str:
    """The uploaded file's own name (for the report), without any path or odd characters."""
    stem = re.sub(r"[^\w.\-]+", "_", Path(name).name)[:120]
    return stem or "upload"


if st.button(_("Import"), type="primary", icon=":material/upload:",
             disabled=not any(uploads.values())):
    bar = st.progress(0.0, text=_("Starting…"))
    with tempfile.TemporaryDirectory(prefix="orderdesk-import-") as folder:
        paths = {}
        for kind, upload in uploads.items():
            if upload is not None:
                path = Path(folder) / kind / _safe_name(upload.name)
                path.parent.mkdir()
                path.write_bytes(upload.getbuffer())
                paths[kind] = path
        try:
            report = import_files(
                get_database(), **paths,
                progress=lambda fraction, message: bar.progress(
                    min(fraction, 1.0), text=as_text(_shown_step(message))),
            )
        except ImportRejected as exc:
            bar.empty()
            st.error(as_text(_refused(exc)))  # the message says that nothing was written
            if exc.problems:
                st.dataframe(
                    pd.DataFrame(
                        [{_("File"): p.file, _("Row"): "" if p.row is None else p.row,
                          _("Column"): p.column or "",
                          _("Reason"): p.reason_in(current_language())}
                         for p in exc.problems]
                    ),
                    hide_index=True, width="stretch",
                )
        except Exception as exc:  # noqa: BLE001 - shown by its kind, logged when a bug
            bar.empty()
            show_error(exc)
        else:
            bar.empty()
            refresh_data()
            st.success(_("Import complete."))
            st.code("\n".join(report.lines(current_language())), language=None)
