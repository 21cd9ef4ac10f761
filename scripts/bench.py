"""Benchmark of orderdesk at merchant scale: orderdesk's own code paths beside naive baselines.

The command; its parts are the package scripts/benchmark/ (what it times and how:
scripts/benchmark/cli.py, and README "Performance").

    .venv/bin/python scripts/bench.py                     # 5,000,000 orders, 2,000 stores, 3 years
    .venv/bin/python scripts/bench.py --orders 1000000    # issue 2's floor: 1M orders
    .venv/bin/python scripts/bench.py --only pages        # the Orders page queries alone
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.benchmark.cli import main  # noqa: E402 - the script runs from any folder

if __name__ == "__main__":
    sys.exit(main())
