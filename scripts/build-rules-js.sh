#!/usr/bin/env bash
# Builds the JavaScript example rule (example-rules/confidential-js) to a component,
# target/wasm32-wasip2/rules/rule_confidential_js.wasm (under CARGO_TARGET_DIR when
# set), with jco / componentize-js against wit/ world `rule`. Runs the JavaScript SDK's
# and the rule's native tests (node --test) first. Installs the pinned npm packages
# (npm ci) when the lock file changed. Does nothing when no input changed since the
# last successful run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

rule_dir=example-rules/confidential-js
sdk_dir=sdk/js
target_dir=${CARGO_TARGET_DIR:-$root/target}
case $target_dir in /*) ;; *) target_dir="$root/$target_dir" ;; esac
out="$target_dir/wasm32-wasip2/rules/rule_confidential_js.wasm"
stamp="$out.inputs"

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error: $tool is not installed; JavaScript rules need Node.js 20 or newer with npm" \
         "(https://nodejs.org), then run this again" >&2
    exit 1
  fi
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "error: Node.js $(node --version) is too old; JavaScript rules need Node.js 20 or newer" >&2
  exit 1
fi

# Every input of the build: the SDK, the rule, its lock file, the WIT, and the Node.js version.
inputs_hash() {
  {
    node --version
    find "$sdk_dir" "$rule_dir" wit -type f \
      -not -path '*/node_modules/*' -not -path '*/dist/*' -print0 |
      sort -z | xargs -0 sha256sum
  } | sha256sum | cut -d' ' -f1
}

hash=$(inputs_hash)
if [ -f "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
  echo "rule_confidential_js: up to date ($out)"
  exit 0
fi

# npm ci wipes node_modules; run it only when the lock file is not the one installed.
lock_stamp="$rule_dir/node_modules/.twinsync-lock"
if ! cmp -s "$rule_dir/package-lock.json" "$lock_stamp" 2>/dev/null; then
  echo "installing the pinned jco / componentize-js (npm ci in $rule_dir)..." >&2
  (cd "$rule_dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$rule_dir/package-lock.json" "$lock_stamp"
fi

echo "native tests: the JavaScript SDK and the confidential rule (node --test)" >&2
(cd "$sdk_dir" && node --test --test-reporter=spec test/)
(cd "$rule_dir" && node --test --test-reporter=spec)

mkdir -p "$(dirname "$out")"
rm -f "$stamp"
(cd "$rule_dir" && node node_modules/@twinsync/rules/bin/twinsync-rule.js build rule.js --wit "$root/wit" -o "$out")

# A component starts with the wasm magic and layer 1 (bytes 0d 00 01 00), a core module with version 1.
header=$(od -An -tx1 -N8 "$out" | tr -d ' \n')
if [ "$header" != "0061736d0d000100" ]; then
  echo "error: $out is not a wasm component" >&2
  exit 1
fi
echo "$hash" >"$stamp"
printf '  %-28s %8d bytes  %s\n' rule-confidential-js "$(wc -c <"$out")" "$out"
