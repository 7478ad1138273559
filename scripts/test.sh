#!/usr/bin/env bash
# Runs every Twinsync test on a fresh machine: builds the example rule components,
# prepares the Python virtualenv used by the simulator's outside-client tests,
# then runs the whole Rust suite (unit tests and end-to-end scenarios).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo is not installed; install Rust with rustup (https://rustup.rs) and run this again" >&2
  exit 1
fi

scripts/build-rules.sh
if [ -x scripts/setup-python.sh ]; then
  scripts/setup-python.sh
fi
# Chromium and Playwright for the admin page's browser test.
scripts/setup-browser.sh
cargo fmt --all -- --check
# The crash-safety scenario runs the node as its own process: it needs the binary.
cargo build -p twinsync
cargo test --workspace --no-fail-fast
# The demo's scripted scenario, through the real binary.
cargo run -q -p twinsync -- demo --check --port-cloud 0 --port-dc 0 --port-node 0 --port-admin 0
