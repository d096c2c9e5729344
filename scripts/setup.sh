#!/usr/bin/env bash
# Installs what is missing and brings the local stack up. Used by `npm run demo`
# and `npm test`; safe to run again (each step is skipped when already done).
set -euo pipefail
cd "$(dirname "$0")/.."

# npm dependencies: installed when missing or when the lockfile changed since.
stamp=node_modules/.paved-lockfile
if [ ! -d node_modules ] || ! cmp -s package-lock.json "$stamp" 2>/dev/null; then
  echo "paved: installing npm dependencies" >&2
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

node bin/paved.js stack up
