#!/usr/bin/env bash
# Fuzzes the local server against openapi.yaml with schemathesis: starts `crm` on a free
# port with a fresh data directory, signs up a tenant for a token, runs every check but
# `positive_data_acceptance` (see docs/testing.md), and stops the server.
# SCHEMATHESIS_EXAMPLES (default 40) and SCHEMATHESIS_SEED (default 1) tune the run.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(infra/dev-tools.sh)
cargo build --quiet -p crm
bin="${CARGO_TARGET_DIR:-target}/debug/crm"
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
# Fuzzing sends many wrong logins; the answer floor that hides their timing would only
# make the run wait (tests/api_auth.rs checks the floor itself).
CRM_AUTH_ANSWER_FLOOR_MS=0 "$bin" --bind "127.0.0.1:$port" --data-dir "$data" >"$data.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$data" "$data.log"' EXIT
# Wait for the server, then sign up a tenant for a token (Python: no curl needed).
token=$(python3 - "$base" <<'PY'
import json, sys, time, urllib.error, urllib.request
base = sys.argv[1]
for _ in range(150):
    try:
        urllib.request.urlopen(base + "/v1/me", timeout=2)
    except urllib.error.HTTPError:
        break  # any HTTP answer (401) means it is up
    except OSError:
        time.sleep(0.2)
body = json.dumps({"company_name": "Schemathesis", "email": "fuzz@example.com",
                   "password": "plum tree at dawn"}).encode()
request = urllib.request.Request(base + "/v1/signup", body, {"content-type": "application/json"})
print(json.load(urllib.request.urlopen(request))["access_token"])
PY
)
"$venv/bin/schemathesis" run openapi.yaml --url "$base" \
    -H "Authorization: Bearer $token" \
    --checks all --exclude-checks positive_data_acceptance \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-40}" --seed "${SCHEMATHESIS_SEED:-1}" \
    --warnings off
