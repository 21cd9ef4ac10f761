#!/usr/bin/env bash
# Set up and run the whole test suite, browser tests included (pass pytest options through).
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
exec .venv/bin/python -m pytest "$@"
