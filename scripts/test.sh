#!/usr/bin/env bash
# Set up and run the whole test suite, browser tests included (pass pytest options through).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh requirements-dev.txt

if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Chromium from Debian's packages for the browser tests…"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
exec .venv/bin/python -m pytest "$@"
