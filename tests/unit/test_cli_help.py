"""The command line without a database: its help texts."""
from __future__ import annotations

import pytest

from core.cli import main


def test_import_help_states_the_row_numbering(capsys):
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "'row 5' is the 5th data row" in out
    assert "no offset means UTC" in out
