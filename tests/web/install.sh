#!/usr/bin/env bash
# Installs the tests' npm dependencies (the versions in package-lock.json) into
# tests/web/node_modules: playwright-core for the browser tests, and stripe,
# Stripe's own Node library, which signs the webhook events the gateway test
# sends. No browser is downloaded: the tests drive Debian's chromium package
# (/usr/bin/chromium).
# Idempotent: does nothing when the installed tree matches the lock file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
stamp=node_modules/.package-lock.json
if [ -f "$stamp" ] && [ -d node_modules/playwright-core ] && [ -d node_modules/stripe ] &&
   node -e '
     const lock = require("./package-lock.json").packages;
     const same = (name) =>
       lock["node_modules/" + name].version === require("./node_modules/" + name + "/package.json").version;
     process.exit(same("playwright-core") && same("stripe") ? 0 : 1);' 2>/dev/null; then
  exit 0
fi
command -v npm >/dev/null || { echo "npm is missing (Debian packages nodejs and npm)" >&2; exit 1; }
npm ci --no-audit --no-fund --ignore-scripts
