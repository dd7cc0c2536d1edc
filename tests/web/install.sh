#!/usr/bin/env bash
# Installs the browser tests' npm dependencies (playwright-core only, the
# version in package-lock.json) into tests/web/node_modules. No browser is
# downloaded: the tests drive Debian's chromium package (/usr/bin/chromium).
# Idempotent: does nothing when the installed tree matches the lock file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
stamp=node_modules/.package-lock.json
if [ -f "$stamp" ] && [ -d node_modules/playwright-core ] &&
   node -e '
     const want = require("./package-lock.json").packages["node_modules/playwright-core"].version;
     const have = require("./node_modules/playwright-core/package.json").version;
     process.exit(want === have ? 0 : 1);' 2>/dev/null; then
  exit 0
fi
command -v npm >/dev/null || { echo "npm is missing (Debian packages nodejs and npm)" >&2; exit 1; }
npm ci --no-audit --no-fund --ignore-scripts
