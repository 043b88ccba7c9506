#!/usr/bin/env bash
# Makes sure Debian's Chromium and the CJK fonts (without which Chinese renders as empty
# boxes) are installed for the end-to-end tests; installs them with apt-get when run as
# root. Prints the browser's path.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
fc-list 2>/dev/null | grep -i 'Noto Sans CJK' >/dev/null || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "end-to-end tests need: ${need[*]} (sudo apt-get install ${need[*]})" >&2
        exit 1
    fi
    echo "installing ${need[*]} ..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "${need[@]}" >&2 ||
        { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${need[@]}" >&2; }
fi
echo /usr/bin/chromium
