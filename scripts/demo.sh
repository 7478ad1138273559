#!/usr/bin/env bash
# The demo: builds the stock rules, then runs the `basic` rule on a sample issue both ways
# (outgoing: issue -> replica; incoming: replica -> changes), as a node would.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/build-rules.sh >/dev/null
cargo build -q -p twinsync
bin=target/debug/twinsync
rule=target/wasm32-wasip2/release/rule_basic.wasm
sample=example-rules/samples

echo "== twinsync rules check $rule"
"$bin" rules check "$rule"
echo
echo "== outgoing: what leaves ACME for issue $sample/issue.json"
"$bin" rules test "$rule" --issue "$sample/issue.json" | tee target/demo-replica.json
echo
echo "== incoming: how that replica lands on the other side (twin $sample/local.json)"
"$bin" rules test "$rule" --issue target/demo-replica.json --incoming --local "$sample/local.json" --config project=GLX
