"""The layout's rules, checked on the source: SQL lives only in core/db/ (and scripts/ and tests/),
no module is over 400 lines and no function over 60 unless a "Long:" note says why.

The SQL check reads string constants with ``ast`` (docstrings and comments are words about SQL,
not SQL) for the keywords every statement orderdesk writes starts or filters with, and any
``.execute(`` call: code outside core/db/ asks core/db for what it needs.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
# The statements' keywords, and those of the fragments a WHERE or ORDER BY clause is built from
# (the old query modules wrote only fragments: "o.status IN (?)", "NULLS LAST", "IS TRUE").
SQL_WORDS = ("SELECT ", " WHERE ", "ORDER BY", "INSERT ", "UPDATE ", "DELETE FROM", "GROUP BY",
             " JOIN ", " IN (", "NULLS LAST", " IS TRUE", "CREATE TABLE")
EXECUTE = ("execute", "executemany")


def _sources(*tops: str) -> list[str]:
    found = []
    for top in tops:
        path = ROOT / top
        found += ([top] if path.is_file()
                  else [p.relative_to(ROOT).as_posix() for p in sorted(path.rglob("*.py"))])
    return found


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the constants that are a module's, class's or function's docstring."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                ids.add(id(body[0].value))
    return ids


def _sql_in(path: str, root: Path = ROOT) -> list[str]:
    tree = ast.parse((root / path).read_text(encoding="utf-8"))
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in docstrings
                and (words := [w.strip() for w in SQL_WORDS if w in node.value])):
            found.append(f"{path}:{node.lineno}: {', '.join(words)}")
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in EXECUTE):
            found.append(f"{path}:{node.lineno}: .{node.func.attr}(")
    return found


OUTSIDE_DB = [p for p in _sources("core", "ui", "screens", "app.py")
              if not p.startswith("core/db/")]


def test_the_checks_see_the_tree():
    assert {"core/query.py", "core/importer/run.py", "core/demo/plan.py", "ui/filters.py",
            "screens/orders.py", "app.py"} <= set(OUTSIDE_DB)
    assert "core/db/filters.py" not in OUTSIDE_DB


def test_the_sql_check_finds_sql(tmp_path):
    (tmp_path / "m.py").write_text('"""SELECT in a docstring is words."""\n'
                                   'cur.execute(f"SELECT a FROM t WHERE {x}")\n'
                                   'clause = f"{column} IN ({marks})"\n'
                                   'tie = f"{key} DESC NULLS LAST, o.order_id DESC"\n')
    assert sorted(_sql_in("m.py", tmp_path)) == [
        "m.py:2: .execute(", "m.py:2: SELECT, WHERE", "m.py:3: IN (", "m.py:4: NULLS LAST"]


@pytest.mark.parametrize("path", OUTSIDE_DB)
def test_no_sql_outside_core_db(path):
    assert _sql_in(path) == []


def _imports(path: str) -> set[str]:
    """The top-level packages a module imports (anywhere in it, functions included)."""
    found = set()
    for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("path", OUTSIDE_DB)
def test_only_core_db_talks_to_the_driver(path):
    assert "duckdb" not in _imports(path)


@pytest.mark.parametrize("path", _sources("core"))
def test_core_never_imports_streamlit(path):
    assert not {"streamlit", "streamlit_authenticator", "altair"} & _imports(path)


SIZED = _sources("core", "ui", "screens", "app.py", "scripts")


def _long_note(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether the line above the def (or above its decorators), or the first line of its
    docstring, says "Long:" and why."""
    above = {node.lineno - 2, (node.decorator_list[0].lineno if node.decorator_list
                               else node.lineno) - 2}
    doc = ast.get_docstring(node, clean=False)
    return (any(0 <= i < len(lines) and "Long:" in lines[i] for i in above)
            or bool(doc and "Long:" in doc.splitlines()[0]))


@pytest.mark.parametrize("path", SIZED)
def test_modules_and_functions_are_short(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) <= MAX_MODULE_LINES, f"{path}: {len(lines)} lines"
    too_long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines, line {node.lineno})"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
        and not _long_note(lines, node)
    ]
    assert too_long == [], f"{path}: {too_long} (or say why above the def: '# Long: ...')"


def test_a_long_note_is_read_above_the_def_or_in_the_docstring():
    source = ("# Long: one table\n@cache\ndef a():\n    pass\n\n"
              "def b():\n    \"\"\"Long: one table.\"\"\"\n\n\ndef c():\n    pass\n")
    lines = source.splitlines()
    notes = {node.name: _long_note(lines, node) for node in ast.parse(source).body}
    assert notes == {"a": True, "b": True, "c": False}
