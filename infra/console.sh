#!/usr/bin/env bash
# Builds the web console into web/dist when its sources, its lock file or openapi.yaml
# changed since the last build (npm ci first when web/node_modules is missing or stale).
# Needs Node 20 and npm. `--force` rebuilds anyway.
set -euo pipefail
cd "$(dirname "$0")/../web"
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.lock.sha256 ] || [ "$(cat node_modules/.lock.sha256)" != "$lock_sum" ]; then
    echo "console: npm ci ..." >&2
    # Playwright drives Debian's Chromium (infra/browser.sh); it never downloads its own.
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >&2
    echo "$lock_sum" > node_modules/.lock.sha256
fi
src_sum=$(cat ../openapi.yaml package-lock.json index.html vite.config.ts tsconfig.json tsconfig.app.json tsconfig.node.json \
    $(find src -type f ! -name schema.d.ts | sort) | sha256sum | cut -d' ' -f1)
if [ "${1:-}" = "--force" ] || [ ! -f dist/.sources.sha256 ] || [ "$(cat dist/.sources.sha256)" != "$src_sum" ]; then
    echo "console: building web/dist ..." >&2
    npm run --silent build >&2
    echo "$src_sum" > dist/.sources.sha256
fi
