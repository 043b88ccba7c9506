#!/usr/bin/env bash
# Starts the product locally: builds the web console if needed, then runs the server
# (`crm`) with the console at http://127.0.0.1:3000/ and the API under /v1. Arguments
# go to `crm` (see `cargo run -p crm -- --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
infra/console.sh
exec cargo run -p crm -- "$@"
