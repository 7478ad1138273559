#!/usr/bin/env bash
# Builds every example rule in example-rules/ to a wasm32-wasip2 component
# (target/wasm32-wasip2/rules/rule_<name>.wasm), then the Python and JavaScript
# ones. Safe to run again: only what changed is rebuilt. Installs the wasm32-wasip2
# target if it is missing. The steps are `cargo xtask build-rules` (xtask/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo is not installed; install Rust with rustup (https://rustup.rs) and run this again" >&2
  exit 1
fi
exec cargo xtask build-rules "$@"
