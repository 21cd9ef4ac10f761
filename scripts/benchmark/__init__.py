"""The benchmark's parts, one job per module (``scripts/bench.py`` is the command).

``timing`` times a callable and runs the script's child processes; ``database`` builds (or
reuses) the benchmark's database; ``pages`` times the Orders page lines and the Overview beside
the plain DuckDB query; ``pandas_baseline`` is the whole-table DataFrame baseline; ``exports``
times the xlsx export in a child; ``apptest`` reruns the signed-in page in AppTest and times a
fresh server's first page in Chromium; ``report`` is the Markdown table; ``cli`` runs it all. The
package is not named ``bench``: ``python scripts/bench.py`` puts scripts/ on sys.path, where a
package of that name would shadow the script.
"""
