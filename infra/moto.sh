#!/usr/bin/env bash
# Starts moto server (the DynamoDB/S3/KMS emulator) on a free 127.0.0.1 port, waits until
# it answers, and prints `<pid> <url>`. Stop it with `kill <pid>`. It runs through
# infra/moto_server.py, which serializes moto's request handling (see there why).
set -euo pipefail
venv="$1"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log="${TMPDIR:-/tmp}/crm-moto-$port.log"
"$venv/bin/python" "$(dirname "$0")/moto_server.py" 127.0.0.1 "$port" >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    if python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/moto-api/', timeout=2)" 2>/dev/null; then
        echo "$pid http://127.0.0.1:$port"
        exit 0
    fi
    sleep 0.2
done
echo "moto server did not start; see $log" >&2
kill "$pid" 2>/dev/null || true
exit 1
