"""``python -m core``: the operators' command line (see core.cli)."""
from core.cli import main

raise SystemExit(main())
