#!/usr/bin/env bash
# Set up and serve orderdesk at http://127.0.0.1:8501, creating the demo data on the first run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh requirements.txt

export ORDERDESK_DB="${ORDERDESK_DB:-data/orders.duckdb}"
export ORDERDESK_USERS="${ORDERDESK_USERS:-data/users.yaml}"
if [ -z "${ORDERDESK_COOKIE_KEY:-}" ]; then
  # Demo only: a random sign-in cookie key, kept (git-ignored) so sign-ins survive a restart.
  if [ ! -s data/cookie.key ]; then
    mkdir -p data
    (umask 077; .venv/bin/python -c "import secrets; print(secrets.token_urlsafe(48))" > data/cookie.key)
  fi
  ORDERDESK_COOKIE_KEY="$(cat data/cookie.key)"
  export ORDERDESK_COOKIE_KEY
fi
if [ ! -f "$ORDERDESK_DB" ]; then
  echo "No database at $ORDERDESK_DB: creating the demo data and demo users (see README)."
  .venv/bin/python -m core demo
elif [ ! -f "$ORDERDESK_USERS" ]; then
  echo "No users file at $ORDERDESK_USERS: add users with 'python -m core users add' (see README)." >&2
  exit 1
fi
exec .venv/bin/streamlit run app.py --server.address "${ORDERDESK_HOST:-127.0.0.1}" \
  --server.port "${ORDERDESK_PORT:-8501}"
