#!/usr/bin/env bash
# The demo: two simulated Jiras (Cloud and Data Center), one Twinsync node, the stock
# `basic` rule (built into the binary) on both sides, live sync. Builds the binary first.
# Ctrl-C stops it.
# Pass --check to run the scripted scenario and exit (non-zero on any divergence).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo is not installed; install Rust with rustup (https://rustup.rs) and run this again" >&2
  exit 1
fi
cargo build -q -p twinsync
exec target/debug/twinsync demo "$@"
