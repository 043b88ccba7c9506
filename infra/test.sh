#!/usr/bin/env bash
# Runs every test: the web console's type check, lint, unit tests and bundle budget; unit
# tests, the port conformance suites on both twins, and the black-box HTTP suite on the
# embedded twins; the console end to end in Chromium against the real local server; and
# the black-box HTTP suite again on the AWS twins. The AWS twins run against moto server
# on 127.0.0.1, which this script installs and starts; Chromium and the CJK fonts come
# from Debian (infra/browser.sh installs them when missing).
# Extra arguments go to the first `cargo test` (e.g. a test name filter).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(infra/dev-tools.sh)
read -r moto_pid moto_url < <(infra/moto.sh "$venv")
trap 'kill "$moto_pid" 2>/dev/null || true' EXIT
export CRM_TEST_MOTO_URL="$moto_url"
echo "== moto server at $moto_url"

echo "== console: npm ci, type check and build, lint, unit tests, initial JavaScript budget"
infra/console.sh --force
(cd web && npm run --silent lint && npm run --silent test && node scripts/bundle-size.mjs)

echo "== all tests (embedded twins; AWS twins on moto in the conformance suites)"
cargo test --workspace --all-targets "$@"

echo "== console end to end: Chromium against the local server the tests above built"
CRM_CHROMIUM=$(infra/browser.sh)
export CRM_CHROMIUM
(cd web && CRM_E2E_SERVER="${CARGO_TARGET_DIR:-$PWD/target}/debug/crm" npx playwright test)

echo "== the black-box HTTP suite again, on the AWS twins (moto)"
CRM_TEST_BACKEND=aws cargo test -p crm --tests
