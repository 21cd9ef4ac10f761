"""Many simulated analysts at once, through Streamlit's own WebSocket protocol, without a browser.

The command; its parts are the package scripts/loadtest/ (what it does and checks:
scripts/loadtest/cli.py, and README "Load test").

    python scripts/loadgen.py --serve --sessions 50 --active 20 --interval 2 --duration 120
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.loadtest.cli import main  # noqa: E402 - the script runs from any folder

if __name__ == "__main__":
    sys.exit(main())
