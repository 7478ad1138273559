#!/usr/bin/env bash
# Runs every Twinsync test on a fresh machine: the example rule components, the Python
# and browser tools the tests use, formatting, the whole Rust suite (unit and end-to-end),
# the API docs and the demo's scripted check. The steps are `cargo xtask test` (xtask/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo is not installed; install Rust with rustup (https://rustup.rs) and run this again" >&2
  exit 1
fi
exec cargo xtask test
