#!/usr/bin/env bash
# Runs every test: unit tests, the port conformance suites on both twins, and the
# black-box HTTP suite on the embedded twins and again on the AWS twins. The AWS twins
# run against moto server on 127.0.0.1, which this script installs and starts.
# Extra arguments go to the first `cargo test` (e.g. a test name filter).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(infra/dev-tools.sh)
read -r moto_pid moto_url < <(infra/moto.sh "$venv")
trap 'kill "$moto_pid" 2>/dev/null || true' EXIT
export CRM_TEST_MOTO_URL="$moto_url"
echo "== moto server at $moto_url"

echo "== all tests (embedded twins; AWS twins on moto in the conformance suites)"
cargo test --workspace --all-targets "$@"

echo "== the black-box HTTP suite again, on the AWS twins (moto)"
CRM_TEST_BACKEND=aws cargo test -p crm --tests
