#!/usr/bin/env bash
# Prepares the admin page's browser test: Debian's Chromium (installed with apt when
# missing and this runs as root) and Playwright's driver in tests/browser/node_modules
# (from the npm registry, pinned by package-lock.json). Idempotent and fast when done.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
chromium=${CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup-browser: installing Debian's chromium (apt-get install chromium)..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "setup-browser: $chromium is missing; install Chromium (Debian: apt-get install chromium)" \
         "or set CHROMIUM to a Chromium binary, then run this again" >&2
    exit 1
  fi
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup-browser: Node.js and npm are needed (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
dir="$root/tests/browser"
stamp="$dir/node_modules/.twinsync-lock"
if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
  exit 0
fi
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
cp "$dir/package-lock.json" "$stamp"
echo "setup-browser: Chromium and Playwright ready"
