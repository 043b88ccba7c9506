#!/usr/bin/env bash
# Installs the pinned Python tools (infra/requirements-dev.txt) into a virtualenv, once:
# .venv by default, or $CRM_VENV. Prints the virtualenv's path.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${CRM_VENV:-$PWD/.venv}"
stamp="$venv/.requirements.sha256"
want=$(sha256sum infra/requirements-dev.txt | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "installing test tools into $venv ..." >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r infra/requirements-dev.txt >&2
    echo "$want" > "$stamp"
fi
echo "$venv"
