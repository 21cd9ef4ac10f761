# Sourced by serve.sh and test.sh: a virtual environment with the pinned packages, made once and
# brought up to date whenever a requirements file changes.
set -euo pipefail
REQUIREMENTS="${1:-requirements.txt}"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.installed-$(cat requirements*.txt | sha256sum | cut -c1-16)-$(basename "$REQUIREMENTS")"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r "$REQUIREMENTS"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
