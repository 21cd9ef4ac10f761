"""The importer's SQL: DuckDB reads the files, checks every row and writes a clean import.

``files`` reads CSV and Parquet files through DuckDB's readers (and a spreadsheet's converted
rows); ``staging`` types their text into temporary tables; ``checks`` finds every bad row with the
patterns and tables of ``core.importer.values`` and words it with its pure rules; ``writing``
merges a clean import into the tables; ``frame`` holds what surrounds the write (DuckDB's memory,
the marker that proves the commit). ``sql`` holds the SQL forms of the value rules. The
orchestration is ``core.importer.import_files``.
"""
# These modules use the importer's pure rules, and core.importer's orchestration uses these
# modules: the package core.importer is loaded first, whichever side is imported first, so that
# neither meets the other half-loaded.
import core.importer  # noqa: F401
