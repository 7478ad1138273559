#!/usr/bin/env bash
# Builds every example rule in example-rules/ to a wasm32-wasip2 component
# (target/wasm32-wasip2/release/rule_<name>.wasm). Safe to run again: cargo
# rebuilds only what changed. Installs the wasm32-wasip2 target if it is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

target=wasm32-wasip2

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo is not installed; install Rust with rustup (https://rustup.rs) and run this again" >&2
  exit 1
fi

# The target's standard library must be installed; rustup can add it, a bare toolchain cannot.
if command -v rustup >/dev/null 2>&1; then
  if ! rustup target list --installed | grep -qx "$target"; then
    echo "installing the $target target (rustup target add $target)..." >&2
    if ! rustup target add "$target"; then
      echo "error: could not install the $target target; run 'rustup target add $target' by hand" \
           "(it needs network access) and run this again" >&2
      exit 1
    fi
  fi
elif [ ! -d "$(rustc --print sysroot)/lib/rustlib/$target" ]; then
  echo "error: the $target target is not installed and rustup is missing;" \
       "install Rust with rustup (https://rustup.rs), then run this again" >&2
  exit 1
fi

# Every crate under example-rules/ is a rule; its package name is the first `name =` line.
packages=()
for manifest in example-rules/*/Cargo.toml; do
  name=$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$manifest" | head -n 1)
  [ -n "$name" ] && packages+=("$name")
done
if [ ${#packages[@]} -eq 0 ]; then
  echo "error: no rule crates found under example-rules/" >&2
  exit 1
fi

args=()
for p in "${packages[@]}"; do args+=(-p "$p"); done
cargo build --release --target "$target" "${args[@]}"

target_dir=$(cargo metadata --format-version 1 --no-deps |
  grep -o '"target_directory":"[^"]*"' | sed 's/.*:"\(.*\)"/\1/')
out="$target_dir/$target/release"

echo "rule components in $out:"
status=0
for p in "${packages[@]}"; do
  file="$out/${p//-/_}.wasm"
  if [ ! -f "$file" ]; then
    echo "error: $file was not built" >&2
    status=1
    continue
  fi
  # A component starts with the wasm magic and layer 1 (bytes 0d 00 01 00), a core module with version 1.
  header=$(od -An -tx1 -N8 "$file" | tr -d ' \n')
  if [ "$header" != "0061736d0d000100" ]; then
    echo "error: $file is not a wasm component" >&2
    status=1
    continue
  fi
  printf '  %-28s %8d bytes  %s\n' "$p" "$(wc -c <"$file")" "$file"
done
scripts/build-rules-py.sh || status=1  # the Python example rules (sdk/python, componentize-py)
scripts/build-rules-js.sh || status=1  # the JavaScript example rule (sdk/js, jco / componentize-js)
exit $status
