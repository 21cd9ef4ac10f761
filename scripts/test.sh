#!/usr/bin/env bash
# Set up and run the whole test suite, browser tests included (pytest options, when given, run
# one pytest with them).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh requirements-dev.txt

# Programs the tests drive, from Debian's packages when missing: Chromium (browser flows),
# LibreOffice Calc (reads the xlsx export as a spreadsheet program does), nginx (the reverse-proxy
# example in deploy/), PostgreSQL (the server mode: the tests start a throwaway cluster of their
# own, scripts/pgcluster.py, and stop it after).
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
updated=""
apt_install() {  # apt_install [--no-install-recommends] PACKAGE...
  echo "Installing from Debian's packages for the tests: ${*: -1}…"
  [ -n "$updated" ] || { $SUDO apt-get update -qq; updated=1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}
[ -x /usr/bin/chromium ] || apt_install chromium
command -v soffice >/dev/null || apt_install --no-install-recommends libreoffice-calc
[ -x /usr/sbin/nginx ] || apt_install --no-install-recommends nginx
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || apt_install --no-install-recommends postgresql
# Options given: one pytest run with them (e.g. `-k refund`, `-m slow`).
[ "$#" -gt 0 ] && exec .venv/bin/python -m pytest "$@"
# The whole suite in two steps: the tests without a browser in two processes (pytest-xdist; each
# module's tests stay in one process, with its fixtures), then the browser flows one at a time
# (each drives a server, nginx or Chromium of its own, timed by what a user would wait).
status=0
.venv/bin/python -m pytest -n 2 --dist loadfile -m "not slow and not browser" || status=$?
.venv/bin/python -m pytest -m "browser and not slow" || status=$?
exit "$status"
